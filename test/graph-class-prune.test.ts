/**
 * Class-preserving channel pruning of graphs: killChannels (ReLU outputs exactly 0, nothing else moved that does
 * not read them, the written file folding back), the search on the demo CNN over a small ball (more channels than
 * the exact prune, the class kept on 2,000 points by nnshrink and by onnxruntime, the check proving it), and the
 * check refuting networks that change the class or miss the margin, refusing nothing it cannot prove.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRUNABLE_CNN_DEAD, PYTORCH_CNN_INPUT, pytorchCnn } from '../src/demo/cnn.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { encodeGraphOnnx } from '../src/formats/onnx-graph/write.ts';
import { forwardAll, forwardGraph } from '../src/model/graph/forward.ts';
import type { Graph, GraphNode } from '../src/model/graph/types.ts';
import { buildGraph } from '../src/model/graph/build.ts';
import { makeBox, samplePoints, type Box } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { classWinner } from '../src/verify/tolerance.ts';
import { killChannels, killSites } from '../src/simplify/graph/kill.ts';
import { pruneGraphClass } from '../src/simplify/graph/class-prune.ts';
import { checkGraphClassPrune } from '../src/simplify/graph/class-check.ts';
import { channelCount } from '../src/simplify/graph/dead.ts';
import { GraphBuilder } from './helpers/graph-build.ts';
import { ortSession } from './helpers/ort.ts';

const f = parseOnnxGraph(pytorchCnn({ dead: PRUNABLE_CNN_DEAD }), 'cnn.onnx');
const N_IN = PYTORCH_CNN_INPUT.reduce((a, b) => a * b, 1);
const centre = Array.from({ length: N_IN }, (_, i) => Math.round((0.2 + 0.6 * mulberry32(11 + i)()) * 64) / 64);
/** a ball where f's class is proved by CROWN alone, and the census in well under a second */
const R = 0.01;
const ball: Box = makeBox(centre.map((c) => c - R), centre.map((c) => c + R));
const INNER = '/layer1/layer1.0/relu/Relu';
const FC = '/relu_2/Relu';
const node = (g: Graph, name: string): GraphNode => g.nodes.find((n) => n.name === name)!;

const argmaxes = (g: Graph, x: Float64Array, count: number): number[] => {
  const y = forwardGraph(g, x, count);
  const m = y.length / count;
  return Array.from({ length: count }, (_, k) => classWinner(y.subarray(k * m, (k + 1) * m), 'argmax').at);
};

/** The tensors whose value depends on tensor t (t excluded). */
function downstream(g: Graph, t: string): Set<string> {
  const out = new Set<string>();
  for (const n of g.nodes) if (n.inputs.some((i) => i === t || out.has(i))) out.add(n.output);
  return out;
}

test('killChannels: the named ReLU channels are exactly 0, every value not reading them unchanged, the file folds back', () => {
  const kills = new Map([[INNER, [0, 4]], [FC, [1]]]);
  const g = killChannels(f, kills);
  const x = samplePoints(ball, 32, mulberry32(3));
  const a = forwardAll(f, x, 32);
  const b = forwardAll(g, x, 32);
  const touched = new Set([...downstream(f, node(f, INNER).output), ...downstream(f, node(f, FC).output)]);
  for (const [name, chs] of kills) {
    const t = node(f, name).output;
    const [C] = f.shapes.get(t)!;
    const v = b.get(t)!;
    const block = v.length / 32 / C;
    for (let i = 0; i < v.length; i++) {
      const ch = Math.floor(i / block) % C;
      if (chs.includes(ch)) assert.equal(v[i], 0, `${t}[${ch}]`);
      // the other channels of a killed ReLU no other kill feeds are as before
      else if (!touched.has(t)) assert.equal(v[i], a.get(t)![i]);
    }
  }
  let compared = 0;
  for (const [t, v] of a) {
    if (touched.has(t) || kills.has(f.nodes.find((n) => n.output === t)?.name ?? '')) continue;
    const w = b.get(t)!;
    const [C] = f.shapes.get(t)!;
    const block = v.length / 32 / C;
    // the producers' killed channels are 0 too; the others, and every other tensor, unchanged
    const killedHere = [...kills].find(([n]) => node(f, n).inputs[0] === t)?.[1] ?? [];
    for (let i = 0; i < v.length; i++) assert.equal(w[i], killedHere.includes(Math.floor(i / block) % C) ? 0 : v[i], t);
    compared++;
  }
  // the input, conv1, bn1, its ReLU, the max-pool, the block's first conv and its batchnorm (the producer)
  assert.equal(compared, 7);
  // the batchnorm's source parameters were zeroed too: writing checks they fold to its scale and shift
  const back = parseOnnxGraph(encodeGraphOnnx(g), 'killed.onnx');
  assert.deepEqual([...forwardGraph(back, x, 32)], [...forwardGraph(g, x, 32)]);
  assert.deepEqual(killChannels(f, new Map()), f);
});

test('killChannels: conv and affine producers; a ReLU after an Add is listed as not killable and refused', () => {
  const bld = new GraphBuilder(mulberry32(5));
  const c1 = bld.conv('x', 2, 4, 3);
  const r1 = bld.add('relu', [c1]);
  const aff = bld.add('affine', [r1], {}, { scale: { shape: [4, 1, 1], data: Float64Array.of(1, 2, 3, 4) }, shift: { shape: [4, 1, 1], data: Float64Array.of(0.1, 0.2, 0.3, 0.4) } });
  const r2 = bld.add('relu', [aff]);
  const r3 = bld.add('relu', [bld.add('add', [r1, r2])]);
  const g = bld.build([2, 5, 5], r3);
  const sites = killSites(g);
  assert.deepEqual([...sites.killable.keys()], ['n1', 'n3']);
  assert.deepEqual(sites.notKillable.map((k) => k.node), ['n5']);
  const killed = killChannels(g, new Map([['n3', [1, 3]]]));
  const x = samplePoints(makeBox(Array(50).fill(-1), Array(50).fill(1)), 8, mulberry32(6));
  const v = forwardAll(killed, x, 8).get(r2)!;
  for (let i = 0; i < v.length; i++) if ([1, 3].includes(Math.floor(i / 25) % 4)) assert.equal(v[i], 0);
  // n1's producer (the conv) is also read by nothing else, but n1's output feeds the Add and the affine: a kill is
  // still a conv filter and bias set to 0
  const k1 = killChannels(g, new Map([['n1', [2]]]));
  const w = forwardAll(k1, x, 8).get(r1)!;
  for (let i = 0; i < w.length; i++) if (Math.floor(i / 25) % 4 === 2) assert.equal(w[i], 0);
  assert.throws(() => killChannels(g, new Map([['n5', [0]]])), /internal: .*n5 cannot be killed: its producer n4 is add/);
  assert.throws(() => killChannels(g, new Map([['n3', [3, 1]]])), /internal: .*not ascending/);
});

const started = Date.now();
const result = pruneGraphClass(f, [ball], { order: 'argmax', margin: 0, timeoutMs: 20_000, censusTimeoutMs: 10_000, censusMaxClaims: 0, seed: 1 });
const pruneMs = Date.now() - started;

test('the class prune removes more channels than the exact one, with the class proved on the ball', () => {
  const r = result;
  assert.equal(r.winner, 4);
  assert.equal(r.reason, undefined);
  assert.ok(channelCount(r.removed) > channelCount(r.exact.removed), `${channelCount(r.removed)} against ${channelCount(r.exact.removed)}`);
  assert.ok(r.summary.parametersAfter < r.exact.summary.parametersAfter);
  assert.ok(r.stats.accepted > 0 && r.stats.accepted === channelCount(r.kills));
  assert.equal(r.stats.proved + r.stats.refuted + r.stats.unknown, r.stats.attempts);
  assert.ok(r.leads && [...r.leads.g].every((v, j) => j === 4 || v > 0), 'g leads proved above 0');
  assert.ok(r.stats.notKillable.some((k) => k.node === '/layer1/layer1.0/relu_1/Relu'), 'the ReLU after the residual Add');
  assert.ok(pruneMs < 20_000, `${pruneMs} ms`);
});

test('2,000 points of the ball: the pruned network has the original class, by nnshrink and by onnxruntime', async () => {
  const x = samplePoints(ball, 2000, mulberry32(9));
  const want = argmaxes(f, x, 2000);
  assert.deepEqual(argmaxes(result.pruned, x, 2000), want);
  const [a, b] = await Promise.all([ortSession(encodeGraphOnnx(f)), ortSession(encodeGraphOnnx(result.pruned))]);
  const [ya, yb] = await Promise.all([a(x, [2000, ...PYTORCH_CNN_INPUT]), b(x, [2000, ...PYTORCH_CNN_INPUT])]);
  const win = (y: Float64Array, k: number): number => classWinner(y.subarray(k * 10, (k + 1) * 10), 'argmax').at;
  for (let k = 0; k < 2000; k++) assert.equal(win(yb, k), win(ya, k), `point ${k}`);
  assert.equal(win(ya, 0), 4);
});

test('the check proves the claim about the two graphs, with margins that hold on samples', () => {
  const c = checkGraphClassPrune(f, result.pruned, [ball], 'argmax', 0, { timeoutMs: 10_000, samples: 500, seed: 3 });
  assert.equal(c.verdict.status, 'proved', c.verdict.reason);
  assert.equal(c.winner, 4);
  assert.equal(c.sampling.points, 500);
  assert.ok(c.margins!.every((m) => m.f > 0 && m.g >= 0));
  // each proved margin is below every lead sampled
  const x = samplePoints(ball, 200, mulberry32(4));
  const yg = forwardGraph(result.pruned, x, 200);
  for (const m of c.margins!) for (let k = 0; k < 200; k++) assert.ok(yg[k * 10 + 4] - yg[k * 10 + m.output] >= m.g);
  // f with a final softmax: the same winner, the claim about its logits
  const sm = { name: 'sm', op: 'softmax', inputs: [f.output.name], output: 'probs', attrs: { axis: 0, toEnd: false }, params: {} } as GraphNode;
  const fSoft = buildGraph(f.input, [...f.nodes, sm], 'probs', 'test', f.opset);
  const s = checkGraphClassPrune(fSoft, result.pruned, [ball], 'argmax', 0, { timeoutMs: 10_000, samples: 100, seed: 3 });
  assert.equal(s.verdict.status, 'proved', s.verdict.reason);
});

test('the check refutes a network that changes the class, or misses the margin, with re-checked witnesses', () => {
  const g = result.pruned;
  const fc2 = node(g, '/fc2/Gemm') as Extract<GraphNode, { op: 'dense' }>;
  // output 2 raised by a little more than its sampled distance to the winner at the centre: it wins near the centre
  const y0 = forwardGraph(f, Float64Array.from(centre));
  const bias = Float64Array.from(fc2.params.bias.data);
  bias[2] += y0[4] - y0[2] + 0.05;
  const edited: Graph = { ...g, nodes: g.nodes.map((n) => (n === fc2 ? { ...fc2, params: { ...fc2.params, bias: { shape: fc2.params.bias.shape, data: bias } } } : n)) };
  const c = checkGraphClassPrune(f, edited, [ball], 'argmax', 0, { timeoutMs: 5000, samples: 200, seed: 3 });
  assert.equal(c.verdict.status, 'refuted');
  const w = Float64Array.from(c.witness!);
  assert.ok(w.every((v, i) => v >= ball.lo[i] && v <= ball.hi[i]));
  assert.notEqual(classWinner(forwardGraph(edited, w), 'argmax').at, classWinner(forwardGraph(f, w), 'argmax').at);
  // the pruned network with a margin above what it keeps: refuted at a point where g's lead is below it
  const big = checkGraphClassPrune(f, result.pruned, [ball], 'argmax', 5, { timeoutMs: 5000, samples: 200, seed: 3 });
  assert.equal(big.verdict.status, 'refuted');
  const yb = forwardGraph(result.pruned, Float64Array.from(big.witness!));
  assert.ok(Math.min(...[...yb].map((v, j) => (j === 4 ? Infinity : yb[4] - v))) <= 5);
});

test('a domain where f has no single winner: nothing beyond the exact prune, and the check does not prove', () => {
  const wide = makeBox(Array(N_IN).fill(0), Array(N_IN).fill(1));
  const r = pruneGraphClass(f, [wide], { order: 'argmax', margin: 0, timeoutMs: 2000, censusTimeoutMs: 300, seed: 1 });
  assert.equal(r.winner, -1);
  assert.match(r.reason!, /winner/);
  assert.equal(r.pruned, r.exact.pruned);
  assert.equal(r.kills.size, 0);
  const c = checkGraphClassPrune(f, result.pruned, [wide], 'argmax', 0, { timeoutMs: 2000, samples: 200, seed: 3 });
  assert.notEqual(c.verdict.status, 'proved');
});

test('with a margin and work limits binding first: the same result twice, g leading by more than the margin, proved', () => {
  // the census's work limit (no claim past its CROWN pass) and a time budget far above the work: nothing depends on pace
  const opts = { order: 'argmax' as const, margin: 0.5, timeoutMs: 60_000, censusTimeoutMs: 30_000, censusMaxClaims: 0, seed: 1, maxAttempts: 4 };
  const a = pruneGraphClass(f, [ball], opts);
  const b = pruneGraphClass(f, [ball], opts);
  assert.equal(a.stats.ended, 'work');
  assert.equal(a.stats.attempts, 4);
  assert.deepEqual([...a.kills], [...b.kills]);
  assert.deepEqual([...a.removed], [...b.removed]);
  assert.ok(a.stats.accepted > 0);
  assert.ok([...a.leads!.g].every((v, j) => j === 4 || v > 0.5));
  const x = samplePoints(ball, 300, mulberry32(12));
  const y = forwardGraph(a.pruned, x, 300);
  for (let k = 0; k < 300; k++) for (let j = 0; j < 10; j++) if (j !== 4) assert.ok(y[k * 10 + 4] - y[k * 10 + j] > 0.5);
  const c = checkGraphClassPrune(f, a.pruned, [ball], 'argmax', 0.5, { timeoutMs: 10_000, samples: 300, seed: 5 });
  assert.equal(c.verdict.status, 'proved', c.verdict.reason);
});
