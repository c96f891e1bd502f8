/**
 * Channel pruning of graphs within an output tolerance (--epsilon E): on a small CNN with one live channel of tiny
 * effect, E above what can be proved of it removes it (the claim proved, re-proved by the check, onnxruntime within E
 * on the written file), E below its sampled effect keeps it; through the CLI on the demo CNN, the certificate is
 * re-checked, and tampered files and certificates are refuted, not proved or refused in one line; a property over
 * random small conv graphs: whatever the prune returns is within E of f on 200 sampled points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRUNABLE_CNN_DEAD, PYTORCH_CNN_INPUT, pytorchCnn } from '../src/demo/cnn.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { encodeGraphOnnx } from '../src/formats/onnx-graph/write.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import type { Graph, GraphNode } from '../src/model/graph/types.ts';
import { makeBox, samplePoints, type Box } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { killChannels } from '../src/simplify/graph/kill.ts';
import { pruneGraphEps } from '../src/simplify/graph/eps-prune.ts';
import { checkGraphEpsPrune } from '../src/simplify/graph/eps-check.ts';
import { sha256Of } from '../src/simplify/graph/certificate.ts';
import { GraphBuilder } from './helpers/graph-build.ts';
import { ortSession } from './helpers/ort.ts';
import { cliIn } from './helpers/run-cli.ts';

/** max over points and outputs of |f - g| by nnshrink's evaluation */
function maxDiff(f: Graph, g: Graph, x: Float64Array, count: number): number {
  const a = forwardGraph(f, x, count);
  const b = forwardGraph(g, x, count);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** conv(2->4) relu conv(4->3) relu flatten dense(48->3), the second conv reading channel 1 with weights 1e-3 of drawn */
function tinyEffectCnn(): Graph {
  const b = new GraphBuilder(mulberry32(3));
  const r1 = b.add('relu', [b.conv('x', 2, 4)]);
  b.conv(r1, 4, 3);
  const w = (b.nodes[2] as Extract<GraphNode, { op: 'conv' }>).params.weight;
  for (let o = 0; o < 3; o++) for (let p = 0; p < 9; p++) w.data[(o * 4 + 1) * 9 + p] *= 1e-3;
  const r2 = b.add('relu', [b.nodes[2].output]);
  return b.build([2, 4, 4], b.dense(b.add('reshape', [r2], { shape: [48] }), 48, 3));
}

// as read back from a float64 file (the opset and precision a file records), so the check compares like with like
const tiny = parseOnnxGraph(encodeGraphOnnx(tinyEffectCnn(), { precision: 'float64' }), 'tiny.onnx');
const cube: Box = makeBox(Array(32).fill(0), Array(32).fill(1));
const xs = samplePoints(cube, 2000, mulberry32(5));
/** channel 1 of the first ReLU (node n1, tensor t1): its largest sampled effect on the outputs when killed */
const effect = maxDiff(tiny, killChannels(tiny, new Map([['n1', [1]]])), xs, 2000);
const opts = { timeoutMs: 60_000, censusTimeoutMs: 20_000, censusMaxClaims: 0, maxAttempts: 20, seed: 1 };

test('E well above the tiny channel\'s effect: it goes, the claim is proved, re-proved, and holds in onnxruntime', async () => {
  assert.ok(effect > 1e-4 && effect < 1e-2, `effect ${effect}`);
  const E = 30 * effect;
  const r = pruneGraphEps(tiny, [cube], { epsilon: E, ...opts });
  assert.deepEqual(r.kills.get('n1'), [1]);
  assert.deepEqual(r.removed.get('t1'), [1]);
  assert.equal(r.stats.accepted, 1);
  assert.ok(r.bound > 0 && r.bound <= E, `bound ${r.bound}`);
  // every other live channel moves the outputs by far more than E: none goes
  assert.equal([...r.kills.values()].flat().length, 1);
  assert.ok(r.summary.parametersAfter < r.summary.parametersBefore);
  assert.ok(maxDiff(tiny, r.pruned, xs, 2000) <= E);
  // the file as written (float64) and read back: the check proves the claim about it
  const bytes = encodeGraphOnnx(r.pruned, { precision: 'float64' });
  const g = parseOnnxGraph(bytes, 'g.onnx');
  const c = checkGraphEpsPrune(tiny, g, r.kills, r.removed, [cube], E, { timeoutMs: 20_000, samples: 500, seed: 3 }, new Set(r.facts.keys()));
  assert.equal(c.verdict.status, 'proved', c.verdict.reason);
  assert.ok(c.provedBound <= E && c.sampling.maxAbsDiff <= E);
  assert.equal(c.facts.reproved, c.facts.claimed);
  // onnxruntime, an independent evaluator, on both written as float32 (it has no float64 Conv)
  const [a, b] = await Promise.all([ortSession(encodeGraphOnnx(tiny, { precision: 'float32' })), ortSession(encodeGraphOnnx(r.pruned, { precision: 'float32' }))]);
  const [ya, yb] = [await a(xs, [2000, 2, 4, 4]), await b(xs, [2000, 2, 4, 4])];
  let d = 0;
  for (let i = 0; i < ya.length; i++) d = Math.max(d, Math.abs(ya[i] - yb[i]));
  assert.ok(d > 0 && d <= E, `onnxruntime max |f-g| ${d} against ${E}`);
});

test('E below the tiny channel\'s sampled effect: it is kept (nothing live goes), and a check with that E refutes', () => {
  const E = effect / 2;
  const r = pruneGraphEps(tiny, [cube], { epsilon: E, ...opts });
  assert.equal(r.kills.get('n1'), undefined);
  assert.equal(r.stats.accepted, 0);
  assert.match(r.reason!, /no live channel could go/);
  assert.equal(r.removed.get('t1'), undefined);
  // the network that drops it, checked against the smaller E: a sampled (or found) point more than E apart
  const killed = pruneGraphEps(tiny, [cube], { epsilon: 30 * effect, ...opts });
  const c = checkGraphEpsPrune(tiny, killed.pruned, killed.kills, killed.removed, [cube], E, { timeoutMs: 10_000, samples: 2000, seed: 5 }, new Set());
  assert.equal(c.verdict.status, 'refuted');
  const w = Float64Array.from(c.witness!);
  assert.ok(maxDiff(tiny, killed.pruned, w, 1) > E);
  // between the sampled effect and what the bounds prove, with ReLU splitting cut short by a work limit: the samples
  // pass, the structure holds, the proof does not
  const mid = checkGraphEpsPrune(tiny, killed.pruned, killed.kills, killed.removed, [cube], 4 * effect, { timeoutMs: 60_000, samples: 200, seed: 5, maxNodes: 2 }, new Set());
  assert.equal(mid.verdict.status, 'unknown', mid.verdict.reason);
  assert.equal(mid.facts.reproved, mid.facts.claimed);
});

test('the check: kills that are not killable, or a stored network that is not the padded one, are not proved', () => {
  const E = 30 * effect;
  const r = pruneGraphEps(tiny, [cube], { epsilon: E, ...opts });
  const o = { timeoutMs: 10_000, samples: 200, seed: 3 };
  const bad = checkGraphEpsPrune(tiny, r.pruned, new Map([['n4', [0]]]), r.removed, [cube], E, o, new Set());
  assert.equal(bad.verdict.status, 'unknown');
  assert.match(bad.verdict.reason!, /kills: n4 is not a ReLU/);
  // the stored g with a bias moved by E / 2 (still within E on samples): not removeChannels(padded, removed)
  const dense = r.pruned.nodes.at(-1) as Extract<GraphNode, { op: 'dense' }>;
  const bias = Float64Array.from(dense.params.bias.data);
  bias[0] += E / 4;
  const edited: Graph = { ...r.pruned, nodes: r.pruned.nodes.map((n) => (n === dense ? { ...dense, params: { ...dense.params, bias: { shape: dense.params.bias.shape, data: bias } } } : n)) };
  const e = checkGraphEpsPrune(tiny, edited, r.kills, r.removed, [cube], E, o, new Set());
  assert.notEqual(e.verdict.status, 'proved');
  assert.match(e.verdict.reason ?? '', /not the original without the named channels|apart/);
});

// ---- the CLI on the demo CNN (planted dead channels; a residual block) ----

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-graph-eps-'));
const cnnPath = join(dir, 'cnn.onnx');
writeFileSync(cnnPath, pytorchCnn({ dead: PRUNABLE_CNN_DEAD }));
const N_IN = PYTORCH_CNN_INPUT.reduce((a, b) => a * b, 1);
const centre = Array.from({ length: N_IN }, (_, i) => Math.round((0.2 + 0.6 * mulberry32(11 + i)()) * 64) / 64);
const ball = `${centre.map((c) => c - 0.01).join(',')}:${centre.map((c) => c + 0.01).join(',')}`;
const run = cliIn(dir);
const EPS = 0.05;
const out = join(dir, 'eps.onnx');
const cert = join(dir, 'eps.cert.json');
const pruning = run('prune', cnnPath, '--domain', ball, '--epsilon', String(EPS), '-o', out, '--certificate', cert, '--timeout', '2', '--json');

test('prune --epsilon on the demo CNN: live channels go, the file is within E by onnxruntime, check re-proves it', async () => {
  const r = await pruning;
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.tolerance, { kind: 'linf', epsilon: EPS });
  assert.equal(j.finalCheck.verdict.status, 'proved');
  assert.ok(j.search.accepted > 0, 'a live channel removed');
  assert.ok(j.search.bound <= EPS);
  assert.equal(j.vacuous, undefined);
  const c = JSON.parse(readFileSync(cert, 'utf8'));
  assert.deepEqual(c.tolerance, { kind: 'linf', epsilon: EPS });
  assert.ok(c.kills.length > 0);
  const rng = mulberry32(8);
  const x = Float64Array.from({ length: 1000 * N_IN }, (_, i) => centre[i % N_IN] + 0.01 * (rng() < 0.2 ? (rng() < 0.5 ? -1 : 1) : 2 * rng() - 1));
  const [a, b] = await Promise.all([ortSession(cnnPath), ortSession(out)]);
  const [ya, yb] = [await a(x, [1000, ...PYTORCH_CNN_INPUT]), await b(x, [1000, ...PYTORCH_CNN_INPUT])];
  let d = 0;
  for (let i = 0; i < ya.length; i++) d = Math.max(d, Math.abs(ya[i] - yb[i]));
  assert.ok(d > 0 && d <= EPS, `onnxruntime max |f-g| ${d}`);
  const k = await run('check', cert);
  assert.equal(k.code, 0, k.out + k.err);
  assert.match(k.out, /^PROVED: max \|f\(x\) - g\(x\)\| <= 0.05/);
});

/** The certificate (and the pruned file) with edits, written next to the originals; check's result. */
async function checkEdited(name: string, edit: (c: Record<string, unknown>) => unknown, fileEdit?: (g: Graph) => Graph): Promise<{ code: number; out: string; err: string }> {
  const c = JSON.parse(readFileSync(cert, 'utf8'));
  if (fileEdit) {
    const bytes = encodeGraphOnnx(fileEdit(parseOnnxGraph(new Uint8Array(readFileSync(out)), out)), { precision: 'float32' });
    const p = join(dir, `${name}.onnx`);
    writeFileSync(p, bytes);
    c.output = { ...c.output, path: `${name}.onnx`, sha256: sha256Of(bytes) };
  }
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(edit(c)));
  return run('check', p, '--timeout', '20');
}

/** g with fc2's bias 0 moved by `by` */
const moveBias = (by: number) => (g: Graph): Graph => ({
  ...g,
  nodes: g.nodes.map((n) => {
    if (n.name !== '/fc2/Gemm' || n.op !== 'dense') return n;
    const bias = Float64Array.from(n.params.bias.data);
    bias[0] += by;
    return { ...n, params: { ...n.params, bias: { shape: n.params.bias.shape, data: bias } } };
  }),
});

test('tampering: a file moved by more than E is refuted; a larger epsilon is still checked against the files', async () => {
  assert.equal((await pruning).code, 0);
  const [moved, larger, within] = await Promise.all([
    checkEdited('moved', (c) => c, moveBias(4 * EPS)),
    // epsilon raised to 1: the moved file is within it, but it is not the padded network without the channels
    checkEdited('larger', (c) => ({ ...c, tolerance: { kind: 'linf', epsilon: 1 } }), moveBias(4 * EPS)),
    checkEdited('within', (c) => ({ ...c, tolerance: { kind: 'linf', epsilon: 1 } })),
  ]);
  assert.equal(moved.code, 1, moved.out + moved.err);
  assert.match(moved.out, /^REFUTED/);
  assert.match(moved.out, /counterexample/);
  assert.equal(larger.code, 3, larger.out + larger.err);
  assert.match(larger.out, /NOT PROVED.*\n.*\n\s+why: the stored network is not the original without the named channels/);
  // the untouched file with a larger epsilon: the (weaker) claim holds
  assert.equal(within.code, 0, within.out + within.err);
});

test('tampering: kills naming a ReLU that cannot be killed, or a bad epsilon, are one-line errors, exit 2', async () => {
  assert.equal((await pruning).code, 0);
  const cases: Array<[string, (c: Record<string, unknown>) => unknown, RegExp]> = [
    ['not-killable', (c) => ({ ...c, kills: [{ node: '/layer1/layer1.0/relu_1/Relu', channels: [0] }] }), /kills\[0\]: '\/layer1\/layer1.0\/relu_1\/Relu' is not a ReLU of the original whose channels can be forced to zero \(its producer .* is add/],
    ['no-node', (c) => ({ ...c, kills: [{ node: 'nope', channels: [0] }] }), /kills\[0\]: 'nope' is not a ReLU/],
    ['kill-range', (c) => ({ ...c, kills: [{ node: '/relu/Relu', channels: [99] }] }), /kills\[0\]: channel 99 of '\/relu\/Relu', whose input has 8/],
    ['negative', (c) => ({ ...c, tolerance: { kind: 'linf', epsilon: -0.1 } }), /malformed certificate: tolerance/],
    // JSON has no NaN: it is written as null
    ['nan', (c) => ({ ...c, tolerance: { kind: 'linf', epsilon: NaN } }), /malformed certificate: tolerance/],
  ];
  const runs = await Promise.all(cases.map(([name, edit]) => checkEdited(name, edit)));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i][0]}: ${r.out} ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, cases[i][2]);
  });
});

test('prune --epsilon: a vacuous epsilon is flagged by prune and check; a bad epsilon is a one-line error', async () => {
  const vout = join(dir, 'vac.onnx');
  const vcert = join(dir, 'vac.cert.json');
  const [r, bad, auto] = await Promise.all([
    run('prune', cnnPath, '--domain', ball, '--epsilon', '1000', '-o', vout, '--certificate', vcert, '--timeout', '2', '--json'),
    run('prune', cnnPath, '--domain', ball, '--epsilon', '-1', '-o', join(dir, 'never.onnx')),
    run('prune', cnnPath, '--domain', ball, '--epsilon', 'auto', '-o', join(dir, 'never.onnx')),
  ]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.match(j.vacuous, /epsilon 1000 is at least the width of every output's range/);
  const k = await run('check', vcert, '--json');
  assert.equal(k.code, 0, k.out + k.err);
  assert.match(JSON.parse(k.out).check.vacuous, /at least the width/);
  for (const b of [bad, auto]) {
    assert.equal(b.code, 2, b.err);
    assert.equal(b.err.trim().split('\n').length, 1, b.err);
    assert.match(b.err, /--epsilon: '(-1|auto)' is not a number >= 0/);
  }
});

// ---- property: random small conv graphs ----

/** conv(2->c1) [bn-like affine] relu conv(c1->c2) relu flatten dense(->4) relu dense(->2), seeded */
function randomCnn(seed: number, c1: number, c2: number, affine: boolean): Graph {
  const b = new GraphBuilder(mulberry32(seed));
  let t = b.conv('x', 2, c1);
  if (affine) {
    const r = mulberry32(seed + 1);
    t = b.add('affine', [t], {}, { scale: { shape: [c1, 1, 1], data: Float64Array.from({ length: c1 }, () => 0.5 + r()) }, shift: { shape: [c1, 1, 1], data: Float64Array.from({ length: c1 }, () => r() - 0.5) } });
  }
  const r1 = b.add('relu', [t]);
  const r2 = b.add('relu', [b.conv(r1, c1, c2)]);
  const h = b.add('relu', [b.dense(b.add('reshape', [r2], { shape: [c2 * 9] }), c2 * 9, 4)]);
  return b.build([2, 3, 3], b.dense(h, 4, 2));
}

test('property: whatever the epsilon prune returns is within E of f on 200 sampled points', () => {
  let live = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.double({ min: 0.01, max: 1, noNaN: true }), (seed, c1, c2, affine, E) => {
      const f = randomCnn(seed, c1, c2, affine);
      const r0 = mulberry32(seed + 2);
      const centre = Array.from({ length: 18 }, () => 2 * r0() - 1);
      const box = makeBox(centre.map((c) => c - 0.2), centre.map((c) => c + 0.2));
      const r = pruneGraphEps(f, [box], { epsilon: E, timeoutMs: 30_000, censusTimeoutMs: 10_000, censusMaxClaims: 0, maxAttempts: 6, maxNodes: 8, seed: 1 });
      assert.ok(r.bound <= E);
      const x = samplePoints(box, 200, mulberry32(seed + 3));
      assert.ok(maxDiff(f, r.pruned, x, 200) <= E, `seed ${seed}`);
      assert.ok(r.summary.parametersAfter <= r.summary.parametersBefore);
      if (r.stats.accepted > 0) live++;
    }),
    { numRuns: 25, seed: 27 },
  );
  // not vacuous: live channels did go in some of the graphs
  assert.ok(live >= 3, `${live} of 25 runs removed a live channel`);
});
