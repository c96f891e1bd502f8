/** Every supported ONNX operator, in small graphs built here, read by nnshrink and checked against onnxruntime. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forward } from '../src/model/network.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { parseOnnx } from '../src/formats/onnx-read.ts';
import { onnxBytes, floatTensor, int64Tensor, valueInfo } from '../src/formats/onnx-write.ts';
import { ATTR_FLOAT, ATTR_INT, ATTR_INTS, encodeModel, ONNX_FLOAT, type ONode, type OTensor } from '../src/formats/onnx-schema.ts';
import { NnsError } from '../src/errors.ts';
import { randomNetwork } from './helpers/nets.ts';
import { ortSession } from './helpers/ort.ts';

const rng = mulberry32(123);
const rand = (n: number): number[] => Array.from({ length: n }, () => rng() * 2 - 1);

function model(nodes: ONode[], inits: OTensor[], inShape: number[], outShape: number[], opts: { initsAsInputs?: boolean; ir?: number; opset?: number } = {}): Uint8Array {
  const inputs = [valueInfo('x', ONNX_FLOAT, inShape)];
  if (opts.initsAsInputs) for (const t of inits) inputs.push(valueInfo(t.name!, t.data_type ?? ONNX_FLOAT, t.dims!));
  return encodeModel({
    ir_version: opts.ir ?? 8,
    graph: { name: 'g', node: nodes, initializer: inits, input: inputs, output: [valueInfo('y', ONNX_FLOAT, outShape)] },
    opset_import: [{ domain: '', version: opts.opset ?? 13 }],
  });
}

async function agree(bytes: Uint8Array, inShape: number[], trials = 20): Promise<void> {
  const net = parseOnnx(bytes, 'test').network;
  const run = await ortSession(bytes);
  const n = inShape.reduce((a, b) => a * b, 1);
  for (let t = 0; t < trials; t++) {
    const x = Float32Array.from(rand(n));
    const yr = await run(x, inShape);
    const y = forward(net, Float64Array.from(x));
    assert.equal(y.length, yr.length);
    y.forEach((v, k) => assert.ok(Math.abs(v - yr[k]) <= 1e-5 * (1 + Math.abs(v)), `${v} vs ${yr[k]}`));
  }
}

const f = (name: string, dims: number[]) => floatTensor(name, dims, rand(dims.reduce((a, b) => a * b, 1)), 'float32');

test('Gemm with alpha, beta, transB, and a bias; Relu; second Gemm', async () => {
  const nodes: ONode[] = [
    { op_type: 'Gemm', input: ['x', 'B1', 'C1'], output: ['h'], attribute: [{ name: 'alpha', f: 0.5, type: ATTR_FLOAT }, { name: 'beta', f: 2, type: ATTR_FLOAT }] },
    { op_type: 'Relu', input: ['h'], output: ['a'] },
    { op_type: 'Gemm', input: ['a', 'B2', 'C2'], output: ['y'], attribute: [{ name: 'transB', i: 1, type: ATTR_INT }] },
  ];
  await agree(model(nodes, [f('B1', [3, 6]), f('C1', [6]), f('B2', [2, 6]), f('C2', [2])], [1, 3], [1, 2]), [1, 3]);
});

test('Gemm with the data as operand B (transA on the weight), and as operand A with transB', async () => {
  const nodes: ONode[] = [
    { op_type: 'Transpose', input: ['x'], output: ['xt'], attribute: [{ name: 'perm', ints: [1, 0], type: ATTR_INTS }] },
    { op_type: 'Gemm', input: ['A', 'xt', 'C'], output: ['h'], attribute: [{ name: 'transA', i: 1, type: ATTR_INT }] },
    { op_type: 'Relu', input: ['h'], output: ['a'] },
    { op_type: 'Transpose', input: ['a'], output: ['at'], attribute: [{ name: 'perm', ints: [1, 0], type: ATTR_INTS }] },
    { op_type: 'Gemm', input: ['at', 'B2'], output: ['y'], attribute: [{ name: 'transB', i: 1, type: ATTR_INT }] },
  ];
  await agree(model(nodes, [f('A', [3, 5]), f('C', [5, 1]), f('B2', [2, 5])], [1, 3], [1, 2]), [1, 3]);
});

test('MatMul, Add, Sub (both sides), Mul, Div by constants, and an output Relu', async () => {
  const nodes: ONode[] = [
    { op_type: 'MatMul', input: ['x', 'W1'], output: ['m'] },
    { op_type: 'Add', input: ['b1', 'm'], output: ['p'] },
    { op_type: 'Sub', input: ['p', 's1'], output: ['q'] },
    { op_type: 'Sub', input: ['s2', 'q'], output: ['r'] },
    { op_type: 'Mul', input: ['r', 'k1'], output: ['u'] },
    { op_type: 'Div', input: ['u', 'k2'], output: ['v'] },
    { op_type: 'Relu', input: ['v'], output: ['a'] },
    { op_type: 'MatMul', input: ['a', 'W2'], output: ['z'] },
    { op_type: 'Relu', input: ['z'], output: ['y'] },
  ];
  const inits = [f('W1', [4, 5]), f('b1', [5]), f('s1', [5]), f('s2', [1]), f('k1', [5]), floatTensor('k2', [1], [2.5], 'float32'), f('W2', [5, 3])];
  const bytes = model(nodes, inits, [1, 4], [1, 3]);
  await agree(bytes, [1, 4]);
  const net = parseOnnx(bytes, 't').network;
  assert.deepEqual(Array.from(net.layers[net.layers.length - 1].relu), [1, 1, 1], 'the output ReLU is kept');
});

test('Transpose before Flatten, Reshape, Identity, Dropout, Constant, BatchNormalization; old IR with initializers as inputs', async () => {
  const constW: OTensor = f('unused', [6, 4]);
  const nodes: ONode[] = [
    { op_type: 'Transpose', input: ['x'], output: ['t'], attribute: [{ name: 'perm', ints: [0, 2, 1], type: ATTR_INTS }] },
    { op_type: 'Flatten', input: ['t'], output: ['fl'], attribute: [{ name: 'axis', i: 1, type: ATTR_INT }] },
    { op_type: 'Reshape', input: ['fl', 'shape'], output: ['rs'] },
    { op_type: 'Identity', input: ['rs'], output: ['id'] },
    { op_type: 'Dropout', input: ['id'], output: ['dr'] },
    { op_type: 'Constant', input: [], output: ['Wc'], attribute: [{ name: 'value', t: { ...constW, name: undefined }, type: 4 }] },
    { op_type: 'MatMul', input: ['dr', 'Wc'], output: ['m'] },
    { op_type: 'BatchNormalization', input: ['m', 'sc', 'bb', 'mu', 'var'], output: ['bn'], attribute: [{ name: 'epsilon', f: 1e-3, type: ATTR_FLOAT }] },
    { op_type: 'Relu', input: ['bn'], output: ['a'] },
    { op_type: 'Gemm', input: ['a', 'W2', 'C2'], output: ['y'], attribute: [{ name: 'transB', i: 1, type: ATTR_INT }] },
  ];
  const variance = floatTensor('var', [4], rand(4).map((v) => v * v + 0.1), 'float32');
  const inits = [int64Tensor('shape', [2], [1, -1]), f('sc', [4]), f('bb', [4]), f('mu', [4]), variance, f('W2', [2, 4]), f('C2', [2])];
  await agree(model(nodes, inits, [1, 2, 3], [1, 2], { initsAsInputs: true, ir: 3, opset: 9 }), [1, 2, 3]);
});

test('written ONNX (float32 and float64, mixed ReLU/linear layers, output ReLU) runs in onnxruntime with equal outputs', async () => {
  const net = randomNetwork(7, [4, 8, 8, 3], 0.4);
  net.layers[2].relu.fill(1);
  for (const precision of ['float32', 'float64'] as const) {
    const bytes = onnxBytes(net, { precision });
    const back = parseOnnx(bytes, 'mem').network;
    assert.deepEqual(back.layers.map((L) => Array.from(L.relu)), net.layers.map((L) => Array.from(L.relu)));
    const run = await ortSession(bytes);
    for (let t = 0; t < 10; t++) {
      const x = rand(4);
      const y = forward(net, Float64Array.from(precision === 'float32' ? Float32Array.from(x) : x));
      const yr = await run(x, [1, 4], precision);
      const tol = precision === 'float32' ? 1e-5 : 1e-12;
      y.forEach((v, k) => assert.ok(Math.abs(v - yr[k]) <= tol * (1 + Math.abs(v)), `${precision}: ${v} vs ${yr[k]}`));
    }
  }
});

test('an unsupported operator is a one-line error naming it, the node and the supported set', () => {
  const nodes: ONode[] = [
    { op_type: 'MatMul', name: 'mm', input: ['x', 'W'], output: ['m'] },
    { op_type: 'Sigmoid', name: 'squash', input: ['m'], output: ['y'] },
  ];
  assert.throws(
    () => parseOnnx(model(nodes, [f('W', [3, 3])], [1, 3], [1, 3]), 'net.onnx'),
    (e: unknown) => e instanceof NnsError && /net\.onnx: node 'squash' \(Sigmoid\): unsupported operator Sigmoid \(supported: Gemm, MatMul/.test(e.message) && !e.message.includes('\n'),
  );
});

test('garbage and truncated ONNX files are one-line errors', () => {
  assert.throws(() => parseOnnx(new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 'junk.onnx'), (e: unknown) => e instanceof NnsError && /junk\.onnx: not a valid ONNX file/.test(e.message));
  const good = onnxBytes(randomNetwork(1, [3, 4, 2]), {});
  assert.throws(() => parseOnnx(good.slice(0, good.length - 17), 'cut.onnx'), (e: unknown) => e instanceof NnsError && /cut\.onnx/.test(e.message));
});

test('a fully linear hidden layer (a factored linear map, as prune writes one) reads back as its own layer', async () => {
  const net = randomNetwork(9, [6, 2, 4, 3], 0);
  net.layers[0].relu.fill(0);
  net.layers[1].relu.fill(1);
  const bytes = onnxBytes(net, { precision: 'float32' });
  const back = parseOnnx(bytes, 'mem').network;
  assert.deepEqual(back.layers.map((L) => [L.inSize, L.outSize]), [[6, 2], [2, 4], [4, 3]]);
  assert.deepEqual(Array.from(back.layers[0].weights), Array.from(net.layers[0].weights, Math.fround), 'the same numbers, not a product');
  await agree(bytes, [1, 6]);
});
