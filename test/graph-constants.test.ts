/**
 * Constant channels (src/simplify/graph/constants.ts, fold-constants.ts, fold-check.ts, perturb.ts): a conv filter
 * or dense row of zeros with a bias is one number at every position; where its consumers can take it into a bias
 * (a dense, a conv without padding) it is removed and folded. Checked against independent computation: plain
 * evaluation of the original and the pruned graph on random points (equal up to float64 rounding when stored in
 * float64; within the check's proved bound when stored in float32), a constant feeding a padded conv kept, and
 * tampered folded biases not proved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../src/model/rng.ts';
import type { Box } from '../src/model/box.ts';
import type { Graph, Tensor } from '../src/model/graph/types.ts';
import { forwardAll, forwardGraph } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { encodeGraphOnnx } from '../src/formats/onnx-graph/write.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { GraphBuilder, tensor } from './helpers/graph-build.ts';
import { removableChannels, removeChannels, zeroChannels, channelSummary } from '../src/simplify/graph/channels.ts';
import { constantChannels, constantSets } from '../src/simplify/graph/constants.ts';
import { checkGraphPrune } from '../src/simplify/graph/check.ts';
import { biasPerturbationBound } from '../src/simplify/graph/perturb.ts';
import { PRUNABLE_CNN_DEAD, PYTORCH_CNN_INPUT, pytorchCnn } from '../src/demo/cnn.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ortSession } from './helpers/ort.ts';
import { cliIn } from './helpers/run-cli.ts';
import { graphPhaseCensus } from '../src/verify/graph/census.ts';
import { pruneFromCensus } from '../src/simplify/graph/prune.ts';
import { dropNodes } from '../src/simplify/graph/linear-relu.ts';

/** x [2,10,10] -> conv (pad 1) -> relu -> conv 3x3 no pad (channel 1: zero filter, bias 0.6) -> relu -> batchnorm
 * -> maxpool 2 -> conv (pads `pad3`) -> relu -> flatten -> dense (row 2: zeros, bias 0.5) -> relu -> dense 3 */
function net(pad3: number): Graph {
  const b = new GraphBuilder(mulberry32(7));
  const r = b.r;
  let h = b.add('relu', [b.conv('x', 2, 4, 3)]);
  const c2 = b.conv(h, 4, 6, 3, { pads: [0, 0, 0, 0] });
  const p2 = b.nodes[b.nodes.length - 1].params as { weight: Tensor; bias: Tensor };
  p2.weight.data.fill(0, 1 * 36, 2 * 36);
  p2.bias.data[1] = 0.6;
  h = b.add('relu', [c2]);
  const pos = (c: number): Tensor => ({ shape: [c], data: Float64Array.from({ length: c }, () => 0.5 + r()) });
  h = b.add('batchnorm', [h], {}, { scale: pos(6), shift: tensor(r, [6], 0.1) });
  h = b.add('maxpool', [h], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil: false });
  h = b.add('relu', [b.conv(h, 6, 5, 3, { pads: [pad3, pad3, pad3, pad3] })]);
  const side = pad3 ? 4 : 2;
  h = b.add('reshape', [h], { shape: [5 * side * side] });
  const d1 = b.dense(h, 5 * side * side, 7);
  const p1 = b.nodes[b.nodes.length - 1].params as { weight: Tensor; bias: Tensor };
  p1.weight.data.fill(0, 2 * 5 * side * side, 3 * 5 * side * side);
  p1.bias.data[2] = 0.5;
  return b.build([2, 10, 10], b.dense(b.add('relu', [d1]), 7, 3));
}

const BOX: Box = { lo: new Float64Array(200), hi: new Float64Array(200).fill(1) };

function points(n: number, count: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n * count }, () => r());
}

/** The prune from structure alone (no census: no channel is dead here), as pruneFromCensus does it. */
function pruneConstants(f: Graph): { removed: ReturnType<typeof removableChannels>; g: Graph } {
  const consts = constantChannels(f, zeroChannels(f, new Map()));
  const removed = removableChannels(f, new Map(), consts);
  return { removed, g: removeChannels(f, removed, consts) };
}

function maxDiff(f: Graph, g: Graph, x: Float64Array, count: number): number {
  const a = forwardGraph(f, x, count);
  const b = forwardGraph(g, x, count);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / (1 + Math.abs(v))), 0);
}

test('constant channels are found through relu, batchnorm and maxpool, and their values hold at sampled points', () => {
  const f = net(0);
  const consts = constantChannels(f, new Map());
  const sets = Object.fromEntries([...constantSets(consts, true)].map(([t, c]) => [t, c]));
  // the conv output, its relu, the batchnorm and the maxpool: channel 1; the dense and its relu: neuron 2
  assert.deepEqual(Object.values(sets).map((c) => c.join()), ['1', '1', '1', '1', '2', '2']);
  const x = points(200, 8, 3);
  const vals = forwardAll(f, x, 8);
  for (const [t, m] of consts) {
    const s = f.shapes.get(t)!;
    const per = size(s) / s[0];
    for (const [c, iv] of m) {
      const v = vals.get(t)!;
      for (let k = 0; k < 8; k++) for (let e = 0; e < per; e++) {
        const y = v[k * size(s) + c * per + e];
        assert.ok(y >= iv.lo - 1e-12 && y <= iv.hi + 1e-12, `${t}[${c}] = ${y} outside [${iv.lo}, ${iv.hi}]`);
      }
    }
  }
});

test('a constant channel goes where its consumers take it into a bias (unpadded conv, dense), not before a padded conv', () => {
  for (const pad of [0, 1]) {
    const f = net(pad);
    const { removed, g } = pruneConstants(f);
    const s = channelSummary(f, g);
    const ch = Object.fromEntries(s.nodes.map((n) => [n.node, [n.before, n.after]]));
    assert.deepEqual(ch.n2, pad ? [6, 6] : [6, 5], `pad ${pad}: the zero filter's conv`);
    assert.deepEqual(ch.n9, [7, 6], `pad ${pad}: the zero dense row goes, folded into the last dense's bias`);
    assert.ok(s.parametersAfter < s.parametersBefore);
    // plain evaluation: the same outputs up to float64 rounding (the fold is exact in real arithmetic)
    const d = maxDiff(f, g, points(200, 64, 5), 64);
    assert.ok(d < 1e-12, `pad ${pad}: |f - g| ${d}`);
    // the maxpool's channel 1 feeds the third conv: removed only when that conv has no padding
    assert.deepEqual(removed.get('t5'), pad ? undefined : [1]);
  }
});

test('check proves the float32 file within the folded biases\' rounding bound, and refuses a tampered folded bias', () => {
  const f = net(0);
  const { removed, g } = pruneConstants(f);
  const stored = parseOnnxGraph(encodeGraphOnnx(g, { precision: 'float32' }), 'g.onnx');
  const fStored = parseOnnxGraph(encodeGraphOnnx(f, { precision: 'float32' }), 'f.onnx');
  // f as stored (float32) and its prune, re-derived from it
  const p = pruneConstants(fStored);
  const gs = parseOnnxGraph(encodeGraphOnnx(p.g, { precision: 'float32' }), 'g.onnx');
  const o = { timeoutMs: 10000, samples: 64, seed: 2 };
  const r = checkGraphPrune(fStored, gs, p.removed, [BOX], o);
  assert.equal(r.verdict.status, 'proved', r.verdict.reason);
  assert.match(r.claim, /^max \|f\(x\) - g\(x\)\| <= .* 2 constant channels folded/);
  assert.ok(r.folds && r.folds.bound > 0 && r.folds.bound < 1e-5, `bound ${r.folds?.bound}`);
  // the bound holds at sampled points (float64 evaluation of both stored files)
  const x = points(200, 256, 9);
  const a = forwardGraph(fStored, x, 256);
  const b = forwardGraph(gs, x, 256);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= r.folds!.bound + 1e-9, `output ${i}: ${Math.abs(a[i] - b[i])} > ${r.folds!.bound}`);
  // a folded bias moved by 1e-4 (beyond any rounding): not proved
  const last = gs.nodes[gs.nodes.length - 1].params as { bias: Tensor };
  last.bias.data[0] += 1e-4;
  const bad = checkGraphPrune(fStored, gs, p.removed, [BOX], o);
  assert.notEqual(bad.verdict.status, 'proved');
  assert.match(bad.verdict.reason ?? '', /bias\[0\].*not the folded value|differ/);
  // the float64 graph's own prune checked against the float32-stored f: not its structure
  assert.notEqual(checkGraphPrune(fStored, stored, removed, [BOX], o).verdict.status, 'proved');
});

test('the perturbation bound is reached by moving the last bias, and grows with the weights after a moved bias', () => {
  const f = net(0);
  const last = f.nodes[f.nodes.length - 1];
  assert.equal(biasPerturbationBound(f, new Map([[last.name, Float64Array.from([1e-3, 0, 2e-3])]])), 2e-3 * (1 + 1e-9));
  // a bias moved before the last dense: |W| row sums times the move, at most (relu is 1-Lipschitz)
  const d1 = f.nodes[f.nodes.length - 3];
  const W = (last.params as { weight: Tensor }).weight;
  const bound = biasPerturbationBound(f, new Map([[d1.name, new Float64Array(7).fill(1e-3)]]));
  let worst = 0;
  for (let i = 0; i < 3; i++) worst = Math.max(worst, W.data.slice(i * 7, (i + 1) * 7).reduce((s, w) => s + Math.abs(w), 0) * 1e-3);
  assert.ok(bound >= worst && bound <= worst * (1 + 1e-8), `${bound} against ${worst}`);
  // and it holds: moving d1's biases by exactly 1e-3 moves the outputs by no more
  const moved = { ...f, nodes: f.nodes.map((n) => (n === d1 ? { ...n, params: { ...n.params, bias: { shape: [7], data: (n.params as { bias: Tensor }).bias.data.map((v) => v + 1e-3) } } } : n)) } as Graph;
  const x = points(200, 64, 4);
  const a = forwardGraph(f, x, 64);
  const b = forwardGraph(moved, x, 64);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= bound + 1e-12);
});

test('prune and check through the CLI: the planted CNN\'s constant fc1 neurons go, onnxruntime agrees, the certificate re-proves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nnshrink-graph-const-'));
  const model = join(dir, 'cnn.onnx');
  writeFileSync(model, pytorchCnn({ dead: PRUNABLE_CNN_DEAD, constant: { fc1: [1, 4] } }));
  const run = cliIn(dir);
  const n = PYTORCH_CNN_INPUT.reduce((a, b) => a * b, 1);
  const centre = Array.from({ length: n }, (_, i) => Math.round((0.2 + 0.6 * mulberry32(11 + i)()) * 64) / 64);
  const spec = `${centre.map((c) => c - 0.02).join(',')}:${centre.map((c) => c + 0.02).join(',')}`;
  const r = await run('prune', model, '--domain', spec, '-o', join(dir, 'p.onnx'), '--timeout', '20', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.finalCheck.verdict.status, 'proved');
  assert.match(j.finalCheck.claim, /2 constant channels folded/);
  const fc1 = j.channels.find((c: { node: string }) => c.node === '/fc1/Gemm');
  const cert = JSON.parse(readFileSync(join(dir, 'p.onnx.certificate.json'), 'utf8'));
  const relu2 = cert.removed.find((x: { tensor: string }) => x.tensor === '/relu_2/Relu_output_0').channels as number[];
  for (const k of [1, 3, 4, 7, 11]) assert.ok(relu2.includes(k), `fc1 neuron ${k}: the three planted dead and the two constant ones`);
  assert.equal(fc1.after, 16 - relu2.length);
  assert.equal(cert.finalCheck.folds.constants, 2);
  const [a, b] = await Promise.all([ortSession(model), ortSession(join(dir, 'p.onnx'))]);
  const rng = mulberry32(8);
  const x = Float64Array.from({ length: 200 * n }, (_, i) => centre[i % n] + 0.02 * (2 * rng() - 1));
  const [ya, yb] = [await a(x, [200, ...PYTORCH_CNN_INPUT]), await b(x, [200, ...PYTORCH_CNN_INPUT])];
  for (let i = 0; i < ya.length; i++) assert.ok(Math.abs(ya[i] - yb[i]) <= 1e-5 * (1 + Math.abs(ya[i])), `onnxruntime output ${i}: ${ya[i]} against ${yb[i]}`);
  const c = await run('check', join(dir, 'p.onnx.certificate.json'));
  assert.equal(c.code, 0, c.out + c.err);
  assert.match(c.out, /^PROVED: max \|f\(x\) - g\(x\)\| <= /);
});

test('a ReLU node always active at every element on the domain is dropped; check proves it, and refuses a dropped one that is not', () => {
  // x in [0, 1]: a conv of positive weights and bias 1 is above 0 everywhere, its ReLU the identity
  const b = new GraphBuilder(mulberry32(3));
  const c1 = b.conv('x', 2, 3, 3);
  const p1 = b.nodes[b.nodes.length - 1].params as { weight: Tensor; bias: Tensor };
  p1.weight.data.forEach((w, i) => (p1.weight.data[i] = Math.abs(w)));
  p1.bias.data.fill(1);
  const r1 = b.add('relu', [c1]);
  const r2 = b.add('relu', [b.conv(r1, 3, 4, 3)]);
  const f = b.build([2, 6, 6], b.dense(b.add('reshape', [r2], { shape: [4 * 36] }), 4 * 36, 3));
  const box: Box = { lo: new Float64Array(72), hi: new Float64Array(72).fill(1) };
  const o = { timeoutMs: 10000, samples: 64, seed: 2 };
  const census = graphPhaseCensus(f, [box], { timeoutMs: 10000, seed: 1 });
  const r = pruneFromCensus(f, census);
  assert.deepEqual(r.linear, ['n1']);
  assert.ok(!r.pruned.nodes.some((n) => n.name === 'n1'));
  const x = points(72, 64, 6);
  assert.deepEqual([...forwardGraph(r.pruned, x, 64)], [...forwardGraph(f, x, 64)], 'bit for bit');
  const ok = checkGraphPrune(f, r.pruned, r.removed, [box], o, new Set(r.dead.keys()));
  assert.equal(ok.verdict.status, 'proved', ok.verdict.reason);
  assert.match(ok.claim, /1 ReLU node\(s\) always active on it dropped/);
  // the other relu dropped too (it changes sign on the box): refuted by sampling or not proved
  const both = dropNodes(f, ['n1', 'n3']);
  const bad = checkGraphPrune(f, both, new Map(), [box], o);
  assert.notEqual(bad.verdict.status, 'proved');
});
