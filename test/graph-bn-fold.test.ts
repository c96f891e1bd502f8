/**
 * BatchNormalization folded into the conv or dense before it (src/simplify/graph/bn-fold.ts) and the check of it
 * (fold-check.ts, perturb.ts). Checked against independent computation: plain evaluation of the original and the
 * folded graph (float64 storage: equal up to float64 rounding; float32 storage: within the proved bound at sampled
 * points), a batchnorm whose conv output has another reader kept, a moved folded weight not proved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../src/model/rng.ts';
import type { Box } from '../src/model/box.ts';
import type { Graph, Tensor } from '../src/model/graph/types.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { encodeGraphOnnx } from '../src/formats/onnx-graph/write.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { graphParameters } from '../src/model/graph/params.ts';
import { GraphBuilder, tensor } from './helpers/graph-build.ts';
import { foldableBatchNorms, foldBatchNorms } from '../src/simplify/graph/bn-fold.ts';
import { checkGraphPrune } from '../src/simplify/graph/check.ts';

/** conv (pad 1) -> bn -> relu -> conv (pad 1) -> bn -> relu [-> add of the second conv's output when `shared`]
 * -> flatten -> dense -> bn (1-D) -> relu -> dense 3 */
function net(shared: boolean): Graph {
  const b = new GraphBuilder(mulberry32(5));
  const r = b.r;
  const bn = (x: string, c: number): string => {
    const scale = Float64Array.from({ length: c }, () => 0.5 + r());
    return b.add('batchnorm', [x], { epsilon: 1e-5 }, { scale: { shape: [c], data: scale }, shift: tensor(r, [c], 0.3) });
  };
  let h = b.add('relu', [bn(b.conv('x', 2, 4, 3), 4)]);
  const c2 = b.conv(h, 4, 4, 3);
  h = b.add('relu', [bn(c2, 4)]);
  if (shared) h = b.add('add', [h, c2]);
  h = b.add('reshape', [h], { shape: [4 * 36] });
  h = b.add('relu', [bn(b.dense(h, 4 * 36, 6), 6)]);
  return b.build([2, 6, 6], b.dense(h, 6, 3));
}

const BOX: Box = { lo: new Float64Array(72), hi: new Float64Array(72).fill(1) };

function points(count: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: 72 * count }, () => r());
}

test('every batchnorm after a conv or dense read only by it is folded: fewer parameters, the same function', () => {
  const f = net(false);
  const names = [...foldableBatchNorms(f).keys()];
  assert.equal(names.length, 3);
  const g = foldBatchNorms(f, names);
  assert.ok(!g.nodes.some((n) => n.op === 'batchnorm'));
  assert.equal(graphParameters(f) - graphParameters(g), 2 * (4 + 4 + 6), 'each batchnorm took 2 C parameters');
  assert.equal(g.output.name, f.output.name);
  const x = points(64, 2);
  const [a, b] = [forwardGraph(f, x, 64), forwardGraph(g, x, 64)];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-12 * (1 + Math.abs(a[i])), `output ${i}: ${a[i]} against ${b[i]}`);
  // the second conv's output read by an add too: its batchnorm stays, the other two go
  const s = net(true);
  assert.deepEqual([...foldableBatchNorms(s).keys()].length, 2);
});

test('check proves the float32 file within the folds\' rounding bound, and does not prove a moved folded weight', () => {
  const f = parseOnnxGraph(encodeGraphOnnx(net(false), { precision: 'float32' }), 'f.onnx');
  const g = parseOnnxGraph(encodeGraphOnnx(foldBatchNorms(f, [...foldableBatchNorms(f).keys()]), { precision: 'float32' }), 'g.onnx');
  const o = { timeoutMs: 10000, samples: 64, seed: 3 };
  const r = checkGraphPrune(f, g, new Map(), [BOX], o);
  assert.equal(r.verdict.status, 'proved', r.verdict.reason);
  assert.equal(r.folds?.batchnorms, 3);
  assert.ok(r.folds!.bound > 0 && r.folds!.bound < 1e-3, `bound ${r.folds!.bound}`);
  const x = points(256, 7);
  const [a, b] = [forwardGraph(f, x, 256), forwardGraph(g, x, 256)];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= r.folds!.bound, `output ${i}: ${Math.abs(a[i] - b[i])} > ${r.folds!.bound}`);
  // a folded conv weight moved by 1e-3: not a rounding of the exact fold
  const conv = g.nodes.find((n) => n.op === 'conv')!.params as { weight: Tensor };
  conv.weight.data[5] += 1e-3;
  const bad = checkGraphPrune(f, g, new Map(), [BOX], o);
  assert.notEqual(bad.verdict.status, 'proved');
  assert.match(bad.verdict.reason ?? '', /weight\[5\] .* not the folded value|differ/);
});
