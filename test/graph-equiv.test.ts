/**
 * Graph equivalence (src/verify/graph/equiv*.ts, diff*.ts, src/model/graph/product.ts) on the demo CNNs: the
 * product graph computes f - g; a graph against itself is proved at a tiny epsilon; a copy with one weight moved
 * is proved just above the proved bound and refuted below a sampled difference, with a witness that plain
 * evaluation confirms; both methods' proved bounds lie above every difference an independent sampling finds, over
 * random perturbations; the class check refutes a network whose winner differs at a point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { mixedCnn, pytorchCnn } from '../src/demo/cnn.ts';
import type { Graph, GraphNode, Tensor } from '../src/model/graph/types.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { productGraph, stackedGraph } from '../src/model/graph/product.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { samplePoints, type Box } from '../src/model/box.ts';
import { NnsError } from '../src/errors.ts';
import { classChanged } from '../src/verify/tolerance.ts';
import { checkGraphClass, checkGraphLinf } from '../src/verify/graph/equiv.ts';
import { alignGraphs } from '../src/verify/graph/diff-align.ts';

const cnn = parseOnnxGraph(pytorchCnn(), 'cnn.onnx');
const mixed = parseOnnxGraph(mixedCnn(), 'mixed.onnx');
const FAST = { samples: 64, steps: 5 };

/** A copy of g with one parameter value (the weight / scale of node `at`, element k) moved by delta. */
function perturbed(g: Graph, at: number, k: number, delta: number, key?: string): Graph {
  const nodes = g.nodes.map((n, i) => {
    if (i !== at) return n;
    const p = n.params as Record<string, Tensor>;
    const name = key ?? ('weight' in p ? 'weight' : 'scale');
    const data = Float64Array.from(p[name].data);
    data[k % data.length] += delta;
    return { ...n, params: { ...p, [name]: { shape: p[name].shape, data } } } as GraphNode;
  });
  return { ...g, nodes };
}

function ball(g: Graph, radius: number, seed = 3): Box {
  const r = mulberry32(seed);
  const c = Float64Array.from({ length: size(g.input.shape) }, () => r() - 0.5);
  return { lo: c.map((v) => v - radius), hi: c.map((v) => v + radius) };
}

/** The largest |f - g| over fresh samples and the box's corners-by-sign (an independent look). */
function sampledMax(f: Graph, g: Graph, box: Box, count: number, seed: number): number {
  const n = box.lo.length;
  const xs = samplePoints(box, count, mulberry32(seed));
  for (let i = 0; i < n; i++) xs[i] = i % 2 ? box.lo[i] : box.hi[i];
  const a = forwardGraph(f, xs, count);
  const b = forwardGraph(g, xs, count);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

const absDiff = (f: Graph, g: Graph, x: Float64Array): number => {
  const a = forwardGraph(f, x);
  const b = forwardGraph(g, x);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
};
const inBox = (box: Box, x: Float64Array): boolean => x.every((v, i) => v >= box.lo[i] && v <= box.hi[i]);

test('the product graph computes f - g, the stacked graph [f; g]; different shapes are refused in one line', () => {
  const g = perturbed(cnn, 0, 7, 0.05);
  const xs = samplePoints(ball(cnn, 0.5), 4, mulberry32(5));
  const d = forwardGraph(productGraph(cnn, g), xs, 4);
  const st = forwardGraph(stackedGraph(cnn, g), xs, 4);
  const a = forwardGraph(cnn, xs, 4);
  const b = forwardGraph(g, xs, 4);
  d.forEach((v, i) => assert.ok(Math.abs(v - (a[i] - b[i])) <= 1e-12 * (1 + Math.abs(a[i]))));
  for (let s = 0; s < 4; s++) for (let k = 0; k < 10; k++) assert.equal(st[s * 20 + k] - st[s * 20 + 10 + k], a[s * 10 + k] - b[s * 10 + k]);
  assert.ok(Math.max(...d.map(Math.abs)) > 0);
  assert.throws(() => productGraph(cnn, mixed), (e: unknown) => e instanceof NnsError && /inputs differ in shape/.test(e.message));
  assert.equal(alignGraphs(cnn, mixed).ok, false);
  assert.equal(alignGraphs(cnn, g).ok, true);
});

test('a graph against itself: proved at a tiny epsilon (diff and auto), the bound exactly 0', () => {
  const box = ball(cnn, 0.02);
  for (const method of ['diff', 'auto'] as const) {
    const r = checkGraphLinf(cnn, cnn, [box], 1e-9, { timeoutMs: 60_000, method, ...FAST });
    assert.equal(r.verdict.status, 'proved', method);
    assert.equal(r.provedBound, 0);
  }
});

test('one weight moved by delta: proved just above the bound, refuted below a sampled difference with a re-checked witness', () => {
  const g = perturbed(cnn, 4, 11, 1e-3);
  const box = ball(cnn, 0.01);
  const b = checkGraphLinf(cnn, g, [box], 0, { timeoutMs: 60_000, method: 'diff', ...FAST, steps: 0 });
  assert.equal(b.verdict.status, 'proved');
  const seen = sampledMax(cnn, g, box, 200, 9);
  assert.ok(seen > 0 && b.provedBound >= seen, `bound ${b.provedBound} below a sampled ${seen}`);
  const ok = checkGraphLinf(cnn, g, [box], 1.2 * b.provedBound, { timeoutMs: 60_000, method: 'diff', ...FAST });
  assert.equal(ok.verdict.status, 'proved');
  assert.ok(ok.provedBound <= 1.2 * b.provedBound);
  const no = checkGraphLinf(cnn, g, [box], 0.5 * seen, { timeoutMs: 60_000, ...FAST });
  assert.equal(no.verdict.status, 'refuted');
  if (no.verdict.status !== 'refuted') return;
  assert.ok(inBox(box, no.verdict.witness));
  assert.ok(absDiff(cnn, g, no.verdict.witness) > 0.5 * seen);
  assert.equal(no.provedBound, Infinity);
});

test('diff and product bounds are sound over random perturbations (every sampled difference within them)', () => {
  const linear = cnn.nodes.flatMap((n, i) => (['conv', 'dense', 'batchnorm'].includes(n.op) ? [i] : []));
  fc.assert(
    fc.property(fc.constantFrom(...linear), fc.nat(5000), fc.double({ min: -0.05, max: 0.05, noNaN: true }), fc.boolean(), (at, k, delta, bias) => {
      const key = bias ? (cnn.nodes[at].op === 'batchnorm' ? 'shift' : 'bias') : undefined;
      const g = perturbed(cnn, at, k, delta, key);
      const box = ball(cnn, 0.01, k);
      const seen = sampledMax(cnn, g, box, 100, k + 1);
      for (const method of ['diff', 'product'] as const) {
        const r = checkGraphLinf(cnn, g, [box], 0, { timeoutMs: 60_000, method, samples: 16, steps: 0 });
        assert.ok(r.provedBound >= seen, `${method}: bound ${r.provedBound} below a sampled ${seen}`);
        assert.ok(r.foundMax <= r.provedBound);
      }
    }),
    { numRuns: 4, seed: 26 },
  );
});

test('the diff method refuses a graph with a product of tensors and the product method answers instead', () => {
  const g = perturbed(mixed, 1, 3, 1e-3);
  const box = ball(mixed, 0.01);
  const r = checkGraphLinf(mixed, g, [box], 0, { timeoutMs: 60_000, method: 'diff', ...FAST, steps: 0 });
  assert.equal(r.verdict.method, 'graph-product');
  assert.match(String(r.verdict.detail?.diffRefused), /no difference rule/);
  assert.ok(Number.isFinite(r.provedBound) && r.provedBound >= sampledMax(mixed, g, box, 100, 4));
});

test('class mode: refuted where the winner differs at a sample (witness re-checked), proved against itself on a small ball', () => {
  const box = ball(cnn, 0.001);
  const c = Float64Array.from(box.lo, (l, i) => 0.5 * l + 0.5 * box.hi[i]);
  const y = forwardGraph(cnn, c);
  const loser = y.indexOf(Math.min(...y));
  const last = cnn.nodes.length - 1;
  const g = perturbed(cnn, last, loser, 100, 'bias');
  const r = checkGraphClass(cnn, g, [box], { timeoutMs: 30_000, ...FAST });
  assert.equal(r.verdict.status, 'refuted');
  if (r.verdict.status === 'refuted') {
    assert.ok(inBox(box, r.verdict.witness));
    assert.ok(classChanged(forwardGraph(cnn, r.verdict.witness), forwardGraph(g, r.verdict.witness), 'argmax', 0));
  }
  const same = checkGraphClass(cnn, perturbed(cnn, last, loser, 1e-6, 'bias'), [box], { timeoutMs: 30_000, ...FAST });
  assert.equal(same.verdict.status, 'proved');
});
