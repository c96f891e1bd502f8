/**
 * A fully-connected ONNX network written back with its source's facts (SaveOptions.source) is a drop-in replacement:
 * the same input and output names, batch dimension, opset and element type, run by onnxruntime with the original's
 * outputs; without a source the writer's bytes are what they were before sources existed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadAnyModel, loadModel, parseAnyOnnx, parseModelBytes } from '../src/formats/load.ts';
import { parseOnnx } from '../src/formats/onnx-read.ts';
import { readNNet } from '../src/formats/nnet.ts';
import { floatTensor, int64Tensor, onnxBytes } from '../src/formats/onnx-write.ts';
import { ATTR_INT, decodeModel, encodeModel, ONNX_DOUBLE, ONNX_FLOAT, type ONode, type OTensor, type OValueInfo } from '../src/formats/onnx-schema.ts';
import type { LoadedModel, OnnxSource } from '../src/formats/model-file.ts';
import { makeLayer, type Network } from '../src/model/network.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { SKIP_SHARED, acasNnet, acasOnnx, sharedPath } from './helpers/shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-dropin-'));
type Dim = number | string;
type Dtype = 'float32' | 'float64';

function info(name: string, elem: number, dims: Dim[]): OValueInfo {
  return { name, type: { tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } };
}

/** A chain as an exporter writes it: [Flatten ->] MatMul -> Add -> Relu -> MatMul -> Add -> Relu -> MatMul -> Add. */
function chainOnnx(o: { input: string; output: string; dims: Dim[]; opset: number; dtype?: Dtype; seed?: number }): Uint8Array {
  const dtype = o.dtype ?? 'float32';
  const rng = mulberry32(o.seed ?? 5);
  const sizes = [5, 7, 6, 3];
  const inits: OTensor[] = [];
  const nodes: ONode[] = [];
  let cur = o.input;
  if (o.dims.length !== 2) {
    nodes.push({ op_type: 'Flatten', name: 'flat', input: [cur], output: ['flat_out'], attribute: [{ name: 'axis', i: 1, type: ATTR_INT }] });
    cur = 'flat_out';
  }
  for (let k = 0; k + 1 < sizes.length; k++) {
    const last = k + 2 === sizes.length;
    const w = Array.from({ length: sizes[k] * sizes[k + 1] }, () => rng() * 2 - 1);
    inits.push(floatTensor(`w${k}`, [sizes[k], sizes[k + 1]], w, dtype), floatTensor(`b${k}`, [sizes[k + 1]], Array.from({ length: sizes[k + 1] }, () => rng() - 0.5), dtype));
    nodes.push({ op_type: 'MatMul', name: `mm${k}`, input: [cur, `w${k}`], output: [`h${k}`] });
    nodes.push({ op_type: 'Add', name: `add${k}`, input: [`h${k}`, `b${k}`], output: [last ? o.output : `s${k}`] });
    if (!last) nodes.push({ op_type: 'Relu', name: `relu${k}`, input: [`s${k}`], output: [`r${k}`] });
    cur = `r${k}`;
  }
  const elem = dtype === 'float32' ? ONNX_FLOAT : ONNX_DOUBLE;
  const graph = { name: 'g', node: nodes, initializer: inits, input: [info(o.input, elem, o.dims)], output: [info(o.output, elem, [o.dims[0], 3])] };
  return encodeModel({ ir_version: 8, graph, opset_import: [{ domain: '', version: o.opset }] });
}

/** The drop-in file of a loaded model, as the prune command is to write it. */
function dropIn(model: LoadedModel, net: Network = model.network): Uint8Array {
  assert.ok(model.onnx, 'the reader kept the source facts');
  return onnxBytes(net, { source: model.onnx, inputShape: model.inputShape, precision: model.onnx.precision });
}

async function session(bytes: Uint8Array) {
  return ort.InferenceSession.create(bytes);
}

/** Runs a session under its own input name; returns the output tensor named `output`. */
async function run(s: ort.InferenceSession, output: string, x: ArrayLike<number>, dims: number[], dtype: Dtype = 'float32') {
  const data = dtype === 'float32' ? Float32Array.from(x) : Float64Array.from(x);
  const r = await s.run({ [s.inputNames[0]]: new ort.Tensor(dtype, data, dims) });
  return r[output];
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
}

const dimsOf = (v: OValueInfo | undefined) => (v?.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_value ?? d.dim_param ?? '');

test('symbolic batch, named tensors, opset 17, float32: written back drop-in, run by onnxruntime like the original', async () => {
  const src = chainOnnx({ input: 'obs', output: 'logits', dims: ['N', 5], opset: 17 });
  const p = join(dir, 'obs.onnx');
  writeFileSync(p, src);
  const viaLoad = loadModel(p);
  const any = loadAnyModel(p);
  assert.equal(any.kind, 'chain');
  const expected: OnnxSource = { inputName: 'obs', outputName: 'logits', batch: 'N', opset: 17, precision: 'float32' };
  assert.deepEqual(viaLoad.onnx, expected);
  if (any.kind === 'chain') assert.deepEqual(any.model.onnx, expected);
  const out = dropIn(viaLoad);
  const m = decodeModel(out);
  assert.deepEqual(m.opset_import?.map((o) => o.version), [17]);
  assert.equal(m.ir_version, 8);
  assert.equal(m.graph!.input![0].name, 'obs');
  assert.deepEqual(dimsOf(m.graph!.input![0]), ['N', 5]);
  assert.equal(m.graph!.output![0].name, 'logits');
  assert.deepEqual(dimsOf(m.graph!.output![0]), ['N', 3]);
  assert.ok(m.graph!.initializer!.every((t) => t.data_type === ONNX_FLOAT), 'float32 weights');
  const [a, b] = await Promise.all([session(src), session(out)]);
  assert.deepEqual([b.inputNames, b.outputNames], [['obs'], ['logits']]);
  const rng = mulberry32(9);
  const x = Array.from({ length: 15 }, () => rng() * 4 - 2);
  const [ya, yb] = await Promise.all([run(a, 'logits', x, [3, 5]), run(b, 'logits', x, [3, 5])]);
  assert.deepEqual(yb.dims, [3, 3]);
  assert.equal(yb.type, 'float32');
  assertClose(yb.data as Float32Array, ya.data as Float32Array, 1e-6);
  // read back: the same network, bit for bit (float32 weights written as float32)
  const back = parseOnnx(out, 'back.onnx');
  assert.deepEqual(back.network, viaLoad.network);
  assert.deepEqual(back.onnx, expected);
});

/** x [batch, 2, 2] -> x.view(x.size(0), -1) with Shape/Gather/Concat -> Gemm -> Relu -> Gemm: the chain reader refuses it. */
function shapeChainFc(): Uint8Array {
  const rng = mulberry32(12);
  const f = (name: string, dims: number[]): OTensor => floatTensor(name, dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng() - 0.5), 'float32');
  const gemm = (name: string, i: string[], out: string): ONode => ({ op_type: 'Gemm', name, input: i, output: [out], attribute: [{ name: 'transB', i: 1, type: ATTR_INT }] });
  const nodes: ONode[] = [
    { op_type: 'Shape', name: '/Shape', input: ['obs'], output: ['s'] },
    { op_type: 'Gather', name: '/Gather', input: ['s', 'i0'], output: ['g'], attribute: [{ name: 'axis', i: 0, type: ATTR_INT }] },
    { op_type: 'Unsqueeze', name: '/Unsqueeze', input: ['g', 'ax'], output: ['u'] },
    { op_type: 'Concat', name: '/Concat', input: ['u', 'm1'], output: ['c'], attribute: [{ name: 'axis', i: 0, type: ATTR_INT }] },
    { op_type: 'Reshape', name: '/Reshape', input: ['obs', 'c'], output: ['f'] },
    gemm('/fc1/Gemm', ['f', 'w1', 'b1'], 'h'),
    { op_type: 'Relu', name: '/Relu', input: ['h'], output: ['r'] },
    gemm('/fc2/Gemm', ['r', 'w2', 'b2'], 'q'),
  ];
  const inits = [int64Tensor('i0', [], [0]), int64Tensor('ax', [1], [0]), int64Tensor('m1', [1], [-1]), f('w1', [5, 4]), f('b1', [5]), f('w2', [3, 5]), f('b2', [3])];
  const graph = { name: 'g', node: nodes, initializer: inits, input: [info('obs', ONNX_FLOAT, ['batch', 2, 2])], output: [info('q', ONNX_FLOAT, ['batch', 3])] };
  return encodeModel({ ir_version: 8, graph, opset_import: [{ domain: '', version: 14 }] });
}

test('a chain read through the graph reader carries the same source facts and writes back drop-in', async () => {
  const src = shapeChainFc();
  assert.throws(() => parseOnnx(src, 'fc.onnx'));
  const any = parseAnyOnnx(src, 'fc.onnx');
  assert.equal(any.kind, 'chain');
  if (any.kind !== 'chain') return;
  assert.deepEqual(any.model.onnx, { inputName: 'obs', outputName: 'q', batch: 'batch', opset: 14, precision: 'float32' });
  const out = dropIn(any.model);
  assert.deepEqual(dimsOf(decodeModel(out).graph!.input![0]), ['batch', 2, 2]);
  const [a, b] = await Promise.all([session(src), session(out)]);
  const x = Array.from({ length: 12 }, (_, i) => Math.sin(i) * 2);
  const [ya, yb] = await Promise.all([run(a, 'q', x, [3, 2, 2]), run(b, 'q', x, [3, 2, 2])]);
  assertClose(yb.data as Float32Array, ya.data as Float32Array, 1e-6);
});

test('a fixed batch keeps [1, 5]; a 4-D input [1,1,1,5] keeps its shape; both run in onnxruntime', async () => {
  for (const dims of [[1, 5], [1, 1, 1, 5]]) {
    const src = chainOnnx({ input: 'x', output: 'y', dims, opset: 11, seed: dims.length });
    const model = parseOnnx(src, 'fixed.onnx');
    assert.equal(model.onnx?.batch, 1);
    const out = dropIn(model);
    const m = decodeModel(out);
    assert.deepEqual(dimsOf(m.graph!.input![0]), dims);
    assert.deepEqual(dimsOf(m.graph!.output![0]), [1, 3]);
    assert.deepEqual(m.opset_import?.map((o) => o.version), [11]);
    const [a, b] = await Promise.all([session(src), session(out)]);
    const x = [0.3, -1.2, 0.8, 1.9, -0.4];
    const [ya, yb] = await Promise.all([run(a, 'y', x, dims), run(b, 'y', x, dims)]);
    assertClose(yb.data as Float32Array, ya.data as Float32Array, 1e-6);
  }
});

test('a fixed batch of 2 and a float64 source (read through the graph path) write back drop-in and read back', async () => {
  const src = chainOnnx({ input: 'x', output: 'y', dims: [2, 1, 5], opset: 15, dtype: 'float64', seed: 8 });
  assert.throws(() => parseOnnx(src, 'b2.onnx')); // the chain reader reads the whole [2, 1, 5] tensor: 10 values
  const any = parseAnyOnnx(src, 'b2.onnx');
  assert.equal(any.kind, 'chain');
  if (any.kind !== 'chain') return;
  assert.deepEqual(any.model.onnx, { inputName: 'x', outputName: 'y', batch: 2, opset: 15, precision: 'float64' });
  const domain = { lo: new Float64Array(5).fill(-1), hi: new Float64Array(5).fill(1) };
  const out = onnxBytes(any.model.network, { source: any.model.onnx, inputShape: any.model.inputShape, precision: 'float64', domain });
  const m = decodeModel(out);
  assert.deepEqual([dimsOf(m.graph!.input![0]), dimsOf(m.graph!.output![0])], [[2, 1, 5], [2, 3]]);
  // the file says its first dimension is a batch, so the chain reader (which its domain metadata sends it to) reads a row
  const back = parseModelBytes(out, 'onnx', 'b2-out.onnx');
  assert.deepEqual(back.network, any.model.network);
  assert.deepEqual(back.domain, domain);
  const [a, b] = await Promise.all([session(src), session(out)]);
  const x = [0.3, -1.2, 0.8, 1.9, -0.4, -0.9, 0.1, 1.5, -1.1, 0.6];
  const [ya, yb] = await Promise.all([run(a, 'y', x, [2, 1, 5], 'float64'), run(b, 'y', x, [2, 1, 5], 'float64')]);
  assert.equal(yb.type, 'float64');
  assertClose(yb.data as Float64Array, ya.data as Float64Array, 1e-12);
});

/** 5 -> 4 (ReLU on neurons 0 and 2 only: the Mul / Max form) -> 2, weights exact in binary. */
function mixedNet(): Network {
  const vals = (k: number, seed: number) => Float64Array.from({ length: k }, (_, i) => (((i * 7 + seed * 3) % 11) - 5) / 8);
  return { inputSize: 5, layers: [makeLayer(5, 4, vals(20, 1), vals(4, 2), Uint8Array.from([1, 0, 1, 0])), makeLayer(4, 2, vals(8, 3), vals(2, 4), false)] };
}

test('float64 sources stay float64; opsets: kept, 7 -> 8 for a float64 Max, IR 10 at opset 21; clashing names kept', async () => {
  const net = mixedNet();
  const cases: Array<{ source: OnnxSource; opset: number; ir: number }> = [
    { source: { inputName: 'in', outputName: 'out', batch: 'B', opset: 7, precision: 'float64' }, opset: 8, ir: 8 },
    { source: { inputName: 'in', outputName: 'out', batch: 'B', opset: 7, precision: 'float32' }, opset: 7, ir: 8 },
    { source: { inputName: 'W0', outputName: 'z0', batch: 2, opset: 21, precision: 'float64' }, opset: 21, ir: 10 },
    { source: { inputName: 'nnshrink_x', outputName: 'x', batch: '', opset: 19, precision: 'float32' }, opset: 19, ir: 9 },
  ];
  const x = [0.5, -1, 2, 0.25, -0.75, 1, 1, -2, 0, 0.5];
  const ref = [0, 1].flatMap((r) => Array.from(forwardOne(net, x.slice(5 * r, 5 * r + 5))));
  for (const c of cases) {
    const bytes = onnxBytes(net, { source: c.source, inputShape: [1, 1, 5], precision: c.source.precision });
    const m = decodeModel(bytes);
    assert.deepEqual([m.opset_import?.[0].version, m.ir_version], [c.opset, c.ir]);
    const s = await session(bytes);
    assert.deepEqual([s.inputNames, s.outputNames], [[c.source.inputName], [c.source.outputName]]);
    const y = await run(s, c.source.outputName, x, [2, 1, 5], c.source.precision);
    assert.equal(y.type, c.source.precision);
    assertClose(y.data as Float64Array, ref, c.source.precision === 'float64' ? 0 : 1e-6);
    assert.deepEqual(parseOnnx(bytes, 'back.onnx').network, net);
  }
  assert.throws(() => onnxBytes(net, { source: { ...cases[0].source, outputName: 'in' } }), /both named/);
});

function forwardOne(net: Network, x: number[]): Float64Array {
  let v = Float64Array.from(x);
  for (const L of net.layers) {
    const z = new Float64Array(L.outSize);
    for (let i = 0; i < L.outSize; i++) {
      let s = L.bias[i];
      for (let j = 0; j < L.inSize; j++) s += L.weights[i * L.inSize + j] * v[j];
      z[i] = L.relu[i] && s < 0 ? 0 : s;
    }
    v = z;
  }
  return v;
}

test('without a source the bytes are those written before sources existed', () => {
  const net: Network = { inputSize: 5, layers: fixedLayers() };
  const h = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const domain = { lo: Float64Array.from([-1, -1, 0, 0, 0.5]), hi: Float64Array.from([1, 2, 0, 1, 0.5]) };
  // computed with the writer of commit af8f56c, before SaveOptions.source
  assert.equal(h(onnxBytes(net)), 'dcd561dcd52153c7799139d95a4045aa958fc65aa6ac0995fa01bf7fe154d27a');
  assert.equal(h(onnxBytes(net, { precision: 'float64' })), '862e5d31f2d4d9e5e3ba12502e2df558a0bfc5a8af67eac131bdea3ba34a24c5');
  assert.equal(h(onnxBytes(net, { inputShape: [1, 1, 1, 5] })), '211725ccbf07ce572231ea250c935f09e9bf412dfe60dc51b7cc883b29b914d0');
  assert.equal(h(onnxBytes(net, { precision: 'float64', domain })), '77877444c7f7447f1ff799cba95faf53eddd105f775510b19151827b88dd0d13');
});

function fixedLayers() {
  const vals = (k: number, seed: number) => Float64Array.from({ length: k }, (_, i) => (((i * 7 + seed * 3) % 11) - 5) / 8);
  return [makeLayer(5, 4, vals(20, 1), vals(4, 2), true), makeLayer(4, 3, vals(12, 3), vals(3, 4), Uint8Array.from([1, 0, 1])), makeLayer(3, 2, vals(6, 5), vals(2, 6), false)];
}

test('shared ACAS Xu and MNIST ONNX: written back with their sources, onnxruntime gives the same outputs', { skip: SKIP_SHARED }, async () => {
  const acasBox = readNNet(acasNnet(1, 1), 'normalized').domain!;
  const files: Array<{ path: string; lo: ArrayLike<number>; hi: ArrayLike<number> }> = [
    { path: acasOnnx(1, 1), lo: acasBox.lo, hi: acasBox.hi },
    { path: sharedPath('mnist', 'onnx', 'mnist-net_256x2.onnx'), lo: new Float64Array(784), hi: new Float64Array(784).fill(1) },
  ];
  const rng = mulberry32(27);
  for (const f of files) {
    const model = loadModel(f.path);
    const src = model.onnx!;
    const [a, b] = await Promise.all([ort.InferenceSession.create(f.path), session(dropIn(model))]);
    assert.deepEqual([b.inputNames, b.outputNames], [a.inputNames, a.outputNames]);
    assert.equal(decodeModel(dropIn(model)).opset_import?.[0].version, src.opset);
    for (let k = 0; k < 20; k++) {
      const x = Array.from(f.lo, (l, i) => l + rng() * (f.hi[i] - l));
      const [ya, yb] = await Promise.all([run(a, src.outputName, x, model.inputShape!), run(b, src.outputName, x, model.inputShape!)]);
      assert.deepEqual(yb.dims, ya.dims);
      assertClose(yb.data as Float32Array, ya.data as Float32Array, 1e-5);
    }
  }
});
