/**
 * The graph ONNX writer: a written graph runs in onnxruntime as nnshrink evaluates it (float32 with a symbolic
 * batch, float64), reads back structurally identical (graphDifference null: bit-identical parameters), keeps every
 * shared CNN's input and output names, batch and opset, and refuses what it cannot write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../src/model/rng.ts';
import { NnsError } from '../src/errors.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { graphDifference } from '../src/model/graph/compare.ts';
import { size } from '../src/model/graph/shape.ts';
import type { Graph, Tensor } from '../src/model/graph/types.ts';
import { parseOnnxGraph, readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { foldBatchNorm } from '../src/formats/onnx-graph/convert-arith.ts';
import { encodeGraphOnnx, writeOnnxGraph } from '../src/formats/onnx-graph/write.ts';
import { decodeModel, encodeModel, ONNX_FLOAT } from '../src/formats/onnx-schema.ts';
import { floatTensor, valueInfo } from '../src/formats/onnx-write.ts';
import { readInputFile } from '../src/formats/read-text.ts';
import { GraphBuilder, tensor, type Rng } from './helpers/graph-build.ts';
import { ortSession } from './helpers/ort.ts';
import { SKIP_SHARED, sharedCnnFiles } from './helpers/shared.ts';

const f32 = (t: Tensor): Tensor => ({ shape: t.shape, data: t.data.map(Math.fround) });
const f32Tensor = (r: Rng, shape: number[], scale = 1): Tensor => f32(tensor(r, shape, scale));

/** A batchnorm as the reader makes it: float32 source parameters, folded to scale and shift. */
function batchNorm(b: GraphBuilder, x: string, c: number): string {
  const r = b.r;
  const [gamma, beta, mean] = [f32Tensor(r, [c], 0.3), f32Tensor(r, [c], 0.1), f32Tensor(r, [c], 0.1)];
  const variance = { shape: [c], data: Float64Array.from({ length: c }, () => Math.fround(0.5 + r())) };
  const { scale, shift } = foldBatchNorm(gamma.data, beta.data, mean.data, variance.data, 1e-5);
  return b.add('batchnorm', [x], { epsilon: 1e-5 }, { scale: { shape: [c], data: scale }, shift: { shape: [c], data: shift }, gamma, beta, mean, variance });
}

/** A PyTorch-like CNN on [3, 8, 8] using every operator the writer emits, float32 parameters. */
function kitchenCnn(seed: number): Graph {
  const b = new GraphBuilder(mulberry32(seed));
  const r = b.r;
  const padded = b.add('pad', ['x'], { pads: [0, 1, 1, 0, 1, 1], value: 0.5 });
  const c1 = b.conv(padded, 3, 4, 3, { pads: [0, 0, 0, 0] });
  const p1 = b.add('maxpool', [b.add('relu', [batchNorm(b, c1, 4)])], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil: false });
  const c2 = b.add('relu', [batchNorm(b, b.conv(p1, 4, 4), 4)]);
  const res = b.add('leakyrelu', [b.add('relu', [b.add('add', [b.conv(c2, 4, 4), p1])])], { alpha: Math.fround(0.1) });
  const branch = b.add('clip', [b.conv(res, 4, 2, 1, { group: 2, pads: [0, 0, 0, 0] })], { min: -1, max: 1 });
  // binary operators on data: t * tanh(t) - t, divided by sigmoid(t) + 1 (>= 1)
  const t = b.add('clip', [res], { min: 0, max: Infinity });
  const prod = b.add('sub', [b.add('mul', [t, b.add('tanh', [t])]), t]);
  const denom = b.add('affine', [b.add('sigmoid', [t])], {}, { scale: { shape: [1, 1, 1], data: Float64Array.of(1) }, shift: { shape: [1, 1, 1], data: Float64Array.of(1) } });
  const cat = b.add('concat', [branch, b.add('div', [prod, denom])], { axis: 0 });
  const pr = b.add('prelu', [cat], {}, { slope: { shape: [6, 1, 1], data: Float64Array.from({ length: 6 }, () => Math.fround(r() * 0.5)) } });
  const avg = b.add('averagepool', [pr], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], countIncludePad: false });
  const tr = b.add('transpose', [avg], { perm: [1, 2, 0] });
  // a dense on a matrix sample (MatMul then Add) and an affine of both kinds of broadcast
  const dm = b.add('dense', [tr], {}, { weight: f32Tensor(r, [5, 6], 0.4), bias: f32Tensor(r, [5], 0.1) });
  const af = b.add('affine', [dm], {}, { scale: f32Tensor(r, [2, 1, 5], 1), shift: f32Tensor(r, [1, 2, 1], 0.2) });
  const flat = b.add('reshape', [af], { shape: [20] });
  const d2 = b.add('dense', [flat], {}, { weight: f32Tensor(r, [10, 20], 0.3), bias: f32Tensor(r, [10], 0.1) });
  const out = b.add('softmax', [d2], { axis: 0, toEnd: false });
  b.nodes = b.nodes.map((n) => (n.op === 'conv' ? { ...n, params: { weight: f32(n.params.weight), bias: f32(n.params.bias) } } : n));
  return b.build([3, 8, 8], out);
}

function close(a: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, ref.length, what);
  const scale = Math.max(1, ...Array.from(ref, Math.abs));
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(a[i] - ref[i]) <= tol * scale, `${what} [${i}]: ${a[i]} vs ${ref[i]}`);
}

test('a CNN of every operator, written float32 at opsets 7 to 22 (each encoding of Clip, Pad, Softmax): onnxruntime (batch 3, symbolic) matches forwardGraph, rereads identical', async () => {
  const g = kitchenCnn(3);
  const rng = mulberry32(11);
  for (const opset of [7, 9, 10, 11, 13, 17, 18, 22]) {
    const bytes = encodeGraphOnnx(g, { opset });
    const h = parseOnnxGraph(bytes, 'written.onnx');
    assert.equal(graphDifference({ ...g, opset }, h), null, `opset ${opset}`);
    assert.equal(h.precision, 'float32');
    const model = decodeModel(bytes);
    assert.deepEqual(model.opset_import, [{ domain: '', version: opset }]);
    assert.deepEqual(model.graph!.input![0].type!.tensor_type!.shape!.dim![0], { dim_param: 'batch' });
    const ops = new Set(model.graph!.node!.map((n) => n.op_type));
    assert.ok(ops.has('Conv') && ops.has('BatchNormalization') && ops.has('MatMul') && ops.has('Gemm'), [...ops].join());
    const batch = 3;
    const x = Float32Array.from({ length: batch * size(g.input.shape) }, () => rng() * 2 - 1);
    const ort = await ortSession(bytes);
    close(await ort(x, [batch, ...g.input.shape]), forwardGraph(h, Float64Array.from(x), batch), 1e-5, `opset ${opset}`);
  }
});

const cnnFiles = sharedCnnFiles;

test('every network of ../shared/nets/cnn: read, written, reread identical; names, batch, opset kept; onnxruntime agrees with the original', { skip: SKIP_SHARED }, async () => {
  const files = cnnFiles();
  assert.ok(files.length >= 10, `found ${files.length} networks`);
  const rng = mulberry32(5);
  for (const f of files) {
    const g = readOnnxGraph(f);
    const bytes = encodeGraphOnnx(g);
    const h = parseOnnxGraph(bytes, 'written.onnx');
    assert.equal(graphDifference(g, h), null, f);
    const [src, out] = [decodeModel(readInputFile(f)), decodeModel(bytes)];
    const dims = (m: typeof src, io: 'input' | 'output') => m.graph![io]!.find((v) => v.name === (io === 'input' ? g.input.name : g.output.name))!.type!.tensor_type!.shape!.dim![0];
    assert.deepEqual(out.graph!.input!.map((v) => v.name), [g.input.name], f);
    assert.deepEqual(out.graph!.output!.map((v) => v.name), src.graph!.output!.map((v) => v.name), f);
    assert.equal(Number(dims(out, 'input').dim_value ?? 0), Number(dims(src, 'input').dim_value ?? 0), f);
    assert.equal(dims(out, 'input').dim_param ?? '', dims(src, 'input').dim_param ?? '', f);
    assert.deepEqual(out.opset_import!.map((o) => o.version), src.opset_import!.filter((o) => !o.domain).map((o) => o.version), f);
    assert.equal(out.graph!.node!.filter((n) => n.op_type === 'Conv').length, src.graph!.node!.filter((n) => n.op_type === 'Conv').length, f);
    const [orig, written] = [await ortSession(f), await ortSession(bytes)];
    for (let k = 0; k < 2; k++) {
      const x = Float32Array.from({ length: size(g.input.shape) }, () => rng());
      const shape = [1, ...g.input.shape];
      close(await written(x, shape), await orig(x, shape), 1e-5, `${f} sample ${k}`);
    }
  }
});

test('float64: a dense-only graph (Gemm, ReLU, PReLU as Max(x, x * s), affine) runs in onnxruntime as forwardGraph within 1e-12', async () => {
  const b = new GraphBuilder(mulberry32(8));
  const d1 = b.dense('x', 5, 7);
  const pr = b.add('prelu', [d1], {}, { slope: { shape: [7], data: Float64Array.from({ length: 7 }, (_, i) => i / 7) } });
  const af = b.add('affine', [pr], {}, { scale: tensor(b.r, [7]), shift: tensor(b.r, [7]) });
  const out = b.dense(b.add('relu', [af]), 7, 3);
  const g = b.build([5], out);
  const bytes = encodeGraphOnnx(g, { precision: 'float64' });
  const h = parseOnnxGraph(bytes, 'written.onnx');
  assert.equal(graphDifference({ ...g, opset: 17 }, h), null);
  assert.equal(h.precision, 'float64');
  const rng = mulberry32(2);
  const x = Float64Array.from({ length: 4 * 5 }, () => rng() * 4 - 2);
  const ort = await ortSession(bytes);
  close(await ort(x, [4, 5], 'float64'), forwardGraph(g, x, 4), 1e-12, 'float64');
});

test('a MatMul by a vector and a Mul then Add by constants read back as written', () => {
  const w = floatTensor('w', [4], [0.5, -1, 2, 0.25], 'float32');
  const [s, t] = [floatTensor('s', [1, 4], [1, 2, 3, 4], 'float32'), floatTensor('t', [3, 1], [0.5, 0, -0.5], 'float32')];
  const bytes = encodeModel({
    ir_version: 8,
    graph: {
      name: 'g',
      node: [
        { op_type: 'Mul', name: 'mul', input: ['x', 's'], output: ['m'] },
        { op_type: 'Add', name: 'add', input: ['m', 't'], output: ['a'] },
        { op_type: 'MatMul', name: 'mv', input: ['a', 'w'], output: ['y'] },
      ],
      initializer: [w, s, t],
      input: [valueInfo('x', ONNX_FLOAT, [2, 3, 4])],
      output: [valueInfo('y', ONNX_FLOAT, [2, 3])],
    },
    opset_import: [{ domain: '', version: 13 }],
  });
  const g = parseOnnxGraph(bytes, 'src.onnx');
  assert.deepEqual(g.nodes.map((n) => `${n.name}:${n.op}`), ['mul:affine', 'mv:dense', 'mv:reshape']);
  assert.equal(graphDifference(g, parseOnnxGraph(encodeGraphOnnx(g), 'written.onnx')), null);
  assert.equal(g.input.batch, 2);
});

test('refused: opsets the reader does not read, what the opset cannot say, float64 attributes float32 cannot hold, an inconsistent batchnorm; a missing folder fails in one line', () => {
  const g = kitchenCnn(4);
  for (const opset of [6, 23, 12.5]) assert.throws(() => encodeGraphOnnx(g, { opset }), /^Error: internal: .*opset/);
  const b = new GraphBuilder(mulberry32(1));
  const soft = b.build([2, 3], b.add('softmax', ['x'], { axis: 0, toEnd: true }));
  assert.throws(() => encodeGraphOnnx(soft, { opset: 13 }), /internal: .*flattened softmax on axis 0 cannot be written at opset 13/);
  assert.equal(graphDifference({ ...soft, opset: 11 }, parseOnnxGraph(encodeGraphOnnx(soft, { opset: 11 }), 'w')), null);
  const b1 = new GraphBuilder(mulberry32(1));
  const pool = b1.build([2, 5, 5], b1.add('maxpool', ['x'], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil: true }));
  assert.throws(() => encodeGraphOnnx(pool, { opset: 9 }), /internal: .*ceil_mode cannot be written at opset 9/);
  assert.equal(graphDifference({ ...pool, opset: 10 }, parseOnnxGraph(encodeGraphOnnx(pool, { opset: 10 }), 'w')), null);
  const b2 = new GraphBuilder(mulberry32(1));
  const leaky = b2.build([3], b2.add('leakyrelu', ['x'], { alpha: 0.1 }));
  assert.throws(() => encodeGraphOnnx(leaky, { precision: 'float64' }), /internal: .*alpha 0.1/);
  const bn = g.nodes.find((n) => n.op === 'batchnorm')!;
  const stale = { ...g, nodes: g.nodes.map((n) => (n === bn ? { ...bn, params: { ...bn.params, shift: { shape: [4], data: new Float64Array(4) } } } : n)) } as Graph;
  assert.throws(() => encodeGraphOnnx(stale), /internal: .*do not fold to its scale and shift/);
  const missing = join(mkdtempSync(join(tmpdir(), 'nnshrink-write-')), 'no', 'such', 'dir', 'net.onnx');
  assert.throws(() => writeOnnxGraph(g, missing), (e: unknown) => {
    assert.ok(e instanceof NnsError, String(e));
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, /net\.onnx: cannot write/);
    return true;
  });
});
