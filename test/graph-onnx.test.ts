/**
 * The ONNX graph reader: every network of ../shared/nets/cnn loads with every shape inferred and evaluates as
 * onnxruntime does; bad graphs fail at load in one line naming the node; fully-connected chains give the same
 * Network as the chain reader (formats/onnx-read.ts), weight for weight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mulberry32 } from '../src/model/rng.ts';
import { NnsError } from '../src/errors.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { graphToChain, isChain } from '../src/model/graph/chain.ts';
import { parseOnnxGraph, readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { parseOnnx, readOnnx } from '../src/formats/onnx-read.ts';
import { floatTensor, int64Tensor, onnxBytes, valueInfo } from '../src/formats/onnx-write.ts';
import { ATTR_INT, ATTR_INTS, encodeModel, ONNX_FLOAT, type ONode, type OTensor } from '../src/formats/onnx-schema.ts';
import type { Network } from '../src/model/network.ts';
import { mixedCnn, pytorchCnn } from '../src/demo/cnn.ts';
import { randomNetwork } from './helpers/nets.ts';
import { ortSession } from './helpers/ort.ts';
import { SKIP_SHARED, acasOnnx, sharedPath, sharedCnnFiles } from './helpers/shared.ts';

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

const cnnFiles = sharedCnnFiles;

test('every network of ../shared/nets/cnn loads, shapes inferred, and evaluates as onnxruntime within 1e-4 relative', { skip: SKIP_SHARED }, async () => {
  const files = cnnFiles();
  assert.ok(files.length >= 10, `found ${files.length} networks`);
  const rng = mulberry32(7);
  for (const f of files) {
    const g = readOnnxGraph(f);
    assert.deepEqual(g.output.shape, [10], f);
    for (const n of g.nodes) assert.ok(g.shapes.get(n.output)?.every((d) => d >= 1), `${f}: ${n.name} has no shape`);
    assert.ok(g.nodes.some((n) => n.op === 'conv'), f);
    const n = prod(g.input.shape);
    const batch = 3;
    const x = Float32Array.from({ length: batch * n }, () => rng());
    const y = forwardGraph(g, Float64Array.from(x), batch);
    const ort = await ortSession(f);
    for (let b = 0; b < batch; b++) {
      // several files fix the batch at 1: ask onnxruntime one sample at a time
      const ref = await ort(x.subarray(b * n, (b + 1) * n), [1, ...g.input.shape]);
      const scale = Math.max(1, ...Array.from(ref, Math.abs));
      ref.forEach((v, i) => assert.ok(Math.abs(y[b * 10 + i] - v) <= 1e-4 * scale, `${f} sample ${b} output ${i}: ${y[b * 10 + i]} vs ${v}`));
    }
  }
});

function sameNetwork(a: Network, b: Network, what: string): void {
  assert.equal(a.inputSize, b.inputSize, what);
  assert.equal(a.layers.length, b.layers.length, what);
  a.layers.forEach((L, k) => {
    const M = b.layers[k];
    assert.deepEqual([L.inSize, L.outSize], [M.inSize, M.outSize], `${what} layer ${k}`);
    assert.deepEqual(L.weights, M.weights, `${what} layer ${k} weights`);
    assert.deepEqual(L.bias, M.bias, `${what} layer ${k} bias`);
    assert.deepEqual(L.relu, M.relu, `${what} layer ${k} activations`);
  });
}

test('ACAS Xu and MNIST ONNX files are chains equal to the chain reader, weight for weight', { skip: SKIP_SHARED }, () => {
  const files = [acasOnnx(1, 1), acasOnnx(3, 7), acasOnnx(5, 9), ...readdirSync(sharedPath('mnist', 'onnx')).filter((f) => f.endsWith('.onnx')).map((f) => sharedPath('mnist', 'onnx', f))];
  for (const f of files) {
    const g = readOnnxGraph(f);
    assert.ok(isChain(g), f);
    sameNetwork(graphToChain(g), readOnnx(f).network, f);
  }
});

test("nnshrink's own ONNX (Gemm, Relu, Max(z, z*s) mixed layers) reads back as the same chain", () => {
  for (let seed = 1; seed <= 5; seed++) {
    const net = randomNetwork(seed, [4, 7, 6, 3]);
    const layers = net.layers.map((L, k) => ({ ...L, relu: k === 1 ? Uint8Array.from(L.relu, (_, i) => i % 2) : L.relu }));
    const bytes = onnxBytes({ ...net, layers }, { precision: 'float64' });
    const g = parseOnnxGraph(bytes, 'own');
    assert.ok(isChain(g));
    assert.ok(g.nodes.some((n) => n.op === 'prelu'));
    sameNetwork(graphToChain(g), parseOnnx(bytes, 'own').network, `seed ${seed}`);
  }
});

test('CNNs are not chains', () => {
  assert.equal(isChain(parseOnnxGraph(pytorchCnn(), 'a')), false);
  assert.equal(isChain(parseOnnxGraph(mixedCnn(), 'b')), false);
  assert.throws(() => graphToChain(parseOnnxGraph(pytorchCnn(), 'a')), /internal/);
});

// --- bad graphs: each fails at load, in one line, naming the node and its operator

const f32 = (name: string, dims: number[]): OTensor => floatTensor(name, dims, new Array(prod(dims)).fill(0.5), 'float32');
function model(nodes: ONode[], inits: OTensor[], inShape = [1, 2, 4, 4], extraInputs: string[] = []): Uint8Array {
  return encodeModel({
    ir_version: 8,
    graph: { name: 'g', node: nodes, initializer: inits, input: [valueInfo('x', ONNX_FLOAT, inShape), ...extraInputs.map((n) => valueInfo(n, ONNX_FLOAT, inShape))], output: [valueInfo('y', ONNX_FLOAT, [])] },
    opset_import: [{ domain: '', version: 13 }],
  });
}
const convNode = (w: string, name = 'c1', x = 'x', out = 'y'): ONode => ({ op_type: 'Conv', name, input: [x, w], output: [out], attribute: [{ name: 'kernel_shape', ints: [3, 3], type: ATTR_INTS }] });

function refuses(bytes: Uint8Array, re: RegExp): void {
  assert.throws(() => parseOnnxGraph(bytes, 'bad.onnx'), (e: unknown) => {
    assert.ok(e instanceof NnsError, String(e));
    assert.ok(!e.message.includes('\n'), e.message);
    assert.match(e.message, /^bad\.onnx: /);
    assert.match(e.message, re);
    return true;
  });
}

test('an unsupported operator, a shape mismatch, a missing tensor and other inconsistencies fail at load naming the node', () => {
  refuses(model([{ op_type: 'Erf', name: 'e1', input: ['x'], output: ['y'] }], []), /node 'e1' \(Erf\): unsupported operator Erf/);
  // no name: the node's index
  refuses(model([{ op_type: 'Relu', input: ['x'], output: ['r'] }, { op_type: 'Resize', input: ['r'], output: ['y'] }], []), /node '#1' \(Resize\): unsupported operator/);
  // a 3-channel weight on 2 channels
  refuses(model([convNode('w')], [f32('w', [4, 3, 3, 3])]), /node 'c1' \(Conv\): weight of shape \[4,3,3,3\] with 1 group\(s\) does not fit 2 input channels/);
  refuses(model([convNode('w', 'c1', 'x', 'h'), { op_type: 'Add', name: 'res', input: ['h', 'x'], output: ['y'] }], [f32('w', [3, 2, 3, 3])]), /node 'res' \(Add\): shapes \[3,2,2\] and \[2,4,4\] do not broadcast/);
  refuses(model([{ op_type: 'Add', name: 'a1', input: ['x', 'ghost'], output: ['y'] }], []), /node 'a1' \(Add\): input 'ghost' is used before any node makes it/);
  // used before it is made: the file's order is the order
  refuses(model([{ op_type: 'Relu', name: 'late', input: ['h'], output: ['y'] }, { op_type: 'Relu', name: 'early', input: ['x'], output: ['h'] }], []), /node 'late' \(Relu\): input 'h' is used before/);
  refuses(model([{ op_type: 'Relu', name: 'r1', input: ['x'], output: ['y'] }], [], [1, 2, 4, 4], ['x2']), /2 inputs that are not initializers/);
  refuses(model([{ op_type: 'Reshape', name: 'rs', input: ['x', 's'], output: ['y'] }], [int64Tensor('s', [2], [2, -1])]), /node 'rs' \(Reshape\): target shape \[2,-1\] does not keep the batch/);
  refuses(model([{ op_type: 'Transpose', name: 't1', input: ['x'], output: ['y'], attribute: [{ name: 'perm', ints: [1, 0, 2, 3], type: ATTR_INTS }] }], []), /node 't1' \(Transpose\): perm \[1,0,2,3\] does not keep the batch axis first/);
  refuses(model([{ op_type: 'Flatten', name: 'f0', input: ['x'], output: ['y'], attribute: [{ name: 'axis', i: 0, type: ATTR_INT }] }], []), /node 'f0' \(Flatten\): Flatten at axis 0 merges the batch/);
  refuses(model([{ op_type: 'Gemm', name: 'g1', input: ['x', 'w'], output: ['y'] }], [f32('w', [32, 5])]), /node 'g1' \(Gemm\): A of shape \[batch,2,4,4\] is not a matrix/);
  refuses(model([{ op_type: 'MatMul', name: 'm1', input: ['x', 'x'], output: ['y'] }], []), /node 'm1' \(MatMul\): B .* must be a constant/);
  const ext: OTensor = { ...f32('w', [3, 2, 3, 3]), raw_data: undefined, data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }] };
  refuses(model([convNode('w')], [ext]), /external file/);
  refuses(model([{ op_type: 'Relu', name: 'r1', input: ['x'], output: ['h'] }], []), /the output 'y' is not made by any node/);
});

test('a declared output shape that the graph does not compute fails at load', () => {
  const bytes = encodeModel({
    ir_version: 8,
    graph: { name: 'g', node: [{ op_type: 'Relu', name: 'r', input: ['x'], output: ['y'] }], input: [valueInfo('x', ONNX_FLOAT, [1, 3])], output: [valueInfo('y', ONNX_FLOAT, [1, 4])] },
    opset_import: [{ domain: '', version: 13 }],
  });
  refuses(bytes, /output 'y' is declared \[1,4\] but computes \[batch,3\]/);
});
