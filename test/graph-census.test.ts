/**
 * The graph phase census against fresh sampling (every proof holds at every sampled point of the boxes), its
 * witnesses against plain evaluation, its counts against its phases, and against the chain census on chain graphs.
 * Work limits (maxClaims, attackSteps) keep every run the same on any machine; the deadlines are never reached.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mulberry32 } from '../src/model/rng.ts';
import { buildGraph } from '../src/model/graph/build.ts';
import type { Graph } from '../src/model/graph/types.ts';
import { forwardAll } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { graphToChain } from '../src/model/graph/chain.ts';
import type { Box } from '../src/model/box.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { mixedCnn, pytorchCnn } from '../src/demo/cnn.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { phaseCensus } from '../src/verify/phase/phase.ts';
import { graphPhaseCensus, type Counts, type GraphCensus } from '../src/verify/graph/census.ts';
import { censusSites } from '../src/verify/graph/census-sites.ts';
import { GraphBuilder } from './helpers/graph-build.ts';

type Rng = () => number;
const LONG = 600_000; // never reached: the work limits bound every run
const WORK = { timeoutMs: LONG, maxClaims: 40, attackSteps: 3 };

function ball(r: Rng, n: number, eps: number, lo = -1, hi = 1): Box {
  const c = Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
  return { lo: c.map((v) => Math.max(lo, v - eps)), hi: c.map((v) => Math.min(hi, v + eps)) };
}

/** Fresh points of the box: uniform, random corners and mixtures (a coordinate at a bound or inside). */
function freshPoints(r: Rng, box: Box, count: number): Float64Array[] {
  return Array.from({ length: count }, (_, k) =>
    Float64Array.from(box.lo, (l, i) => {
      const h = box.hi[i];
      const kind = k % 3 === 0 ? 0 : k % 3 === 1 ? 1 : r() < 0.5 ? 0 : 1;
      return kind === 0 ? l + r() * (h - l) : r() < 0.5 ? l : h;
    }),
  );
}

/** Every proved element holds at every point; every 'both' element's two witnesses are genuine and in a box. */
function assertSound(g: Graph, boxes: Box[], c: GraphCensus, points: Float64Array[], what: string): void {
  const sites = censusSites(g);
  assert.equal(c.layers.length, sites.length);
  const n = size(g.input.shape);
  const flat = new Float64Array(points.length * n);
  points.forEach((p, k) => flat.set(p, k * n));
  const vals = forwardAll(g, flat, points.length);
  sites.forEach((site, s) => {
    const L = c.layers[s];
    assert.equal(L.node, site.node);
    const v = vals.get(site.tensor)!;
    const m = L.phases.length;
    for (let k = 0; k < points.length; k++) {
      for (let i = 0; i < m; i++) {
        const d = v[k * m + i] - site.kink;
        if (L.phases[i] === 'never') assert.ok(d <= 0, `${what}: ${site.node}[${i}] proved never above ${site.kink}, a sample gives ${d} above`);
        if (L.phases[i] === 'always') assert.ok(d >= 0, `${what}: ${site.node}[${i}] proved always above ${site.kink}, a sample gives ${d}`);
      }
    }
  });
  assertWitnesses(g, boxes, c, what);
}

const inSome = (boxes: Box[], x: Float64Array): boolean => boxes.some((b) => x.every((v, i) => v >= b.lo[i] && v <= b.hi[i]));

function assertWitnesses(g: Graph, boxes: Box[], c: GraphCensus, what: string): void {
  const sites = censusSites(g);
  const valueAt = new Map<number, Map<string, Float64Array>>();
  const at = (p: number): Map<string, Float64Array> => {
    if (!valueAt.has(p)) {
      assert.ok(inSome(boxes, c.points[p]), `${what}: witness point ${p} lies outside every box`);
      valueAt.set(p, forwardAll(g, c.points[p], 1));
    }
    return valueAt.get(p)!;
  };
  c.layers.forEach((L, s) => {
    L.phases.forEach((ph, i) => {
      const a = L.activeAt[i];
      const b = L.inactiveAt[i];
      if (ph === 'both') assert.ok(a >= 0 && b >= 0, `${what}: ${L.node}[${i}] both without two witnesses`);
      if (a >= 0) assert.ok(at(a).get(sites[s].tensor)![i] > sites[s].kink, `${what}: ${L.node}[${i}] active witness not above the kink`);
      if (b >= 0) assert.ok(at(b).get(sites[s].tensor)![i] < sites[s].kink, `${what}: ${L.node}[${i}] inactive witness not below the kink`);
      if (ph === 'never') assert.ok(a < 0, `${what}: ${L.node}[${i}] never yet witnessed active`);
      if (ph === 'always') assert.ok(b < 0, `${what}: ${L.node}[${i}] always yet witnessed inactive`);
    });
  });
}

const sum = (c: Counts): number => c.never + c.always + c.both + c.unknown;

/** Counts add up, totals are the layers' sums, and every channel's phase follows from its positions. */
function assertCounts(c: GraphCensus, what: string): void {
  const totals: Counts = { never: 0, always: 0, both: 0, unknown: 0 };
  const chTotals: Counts = { never: 0, always: 0, both: 0, unknown: 0 };
  for (const L of c.layers) {
    assert.equal(L.phases.length, size(L.shape));
    assert.equal(sum(L.counts), L.phases.length, `${what}: ${L.node} counts`);
    for (const k of Object.keys(totals) as (keyof Counts)[]) {
      assert.equal(L.counts[k], L.phases.filter((p) => p === k).length);
      totals[k] += L.counts[k];
    }
    assert.equal(L.channels !== undefined, L.shape.length === 3, `${what}: channels exactly for [C, H, W]`);
    if (!L.channels) continue;
    const C = L.shape[0];
    const per = L.phases.length / C;
    assert.equal(L.channels.phases.length, C);
    L.channels.phases.forEach((p, ch) => {
      const pos = L.phases.slice(ch * per, (ch + 1) * per);
      const all = (q: string): boolean => pos.every((x) => x === q);
      if (all('never')) assert.equal(p, 'never', `${what}: channel ${ch}`);
      else if (all('always')) assert.equal(p, 'always', `${what}: channel ${ch}`);
      else assert.ok(p === 'both' || p === 'unknown', `${what}: channel ${ch} is ${p} with mixed positions`);
      if (p === 'both') {
        const act = Array.from(L.activeAt.subarray(ch * per, (ch + 1) * per)).some((x) => x >= 0);
        const ina = Array.from(L.inactiveAt.subarray(ch * per, (ch + 1) * per)).some((x) => x >= 0);
        assert.ok(act && ina, `${what}: channel ${ch} both without witnesses on each side`);
      }
      chTotals[p]++;
    });
  }
  assert.deepEqual(c.totals, totals, `${what}: totals`);
  assert.deepEqual(c.channelTotals, chTotals, `${what}: channel totals`);
}

// ---------- small random graphs ----------

/** The census's random graphs: a conv's weights and every bias drawn other than the builder's default. */
const builder = (r: () => number): GraphBuilder => new GraphBuilder(r, { convWeight: 0.4, bias: 0.3 });

/** conv -> act -> conv (+ a residual) -> act -> flatten -> dense -> relu -> dense, acts drawn per seed. */
function randomGraph(seed: number): Graph {
  const r = mulberry32(seed);
  const g = builder(r);
  const act = (x: string): string => {
    const k = Math.floor(r() * 4);
    if (k === 1) return g.add('leakyrelu', [x], { alpha: 0.05 + 0.3 * r() });
    if (k === 2) return g.add('prelu', [x], {}, { slope: { shape: [2, 1, 1], data: Float64Array.from([0.2 * r(), 0.5 * r()]) } });
    if (k === 3) return g.add('clip', [x], { min: -0.3 * r(), max: 0.5 + r() });
    return g.add('relu', [x]);
  };
  const a = act(g.conv('x', 1, 2));
  let h = g.conv(a, 2, 2);
  if (r() < 0.5) h = g.add('add', [h, a]);
  h = act(h);
  h = g.dense(g.add('reshape', [h], { shape: [32] }), 32, 6);
  h = g.dense(g.add('relu', [h]), 6, 3);
  return buildGraph({ name: 'x', shape: [1, 4, 4], batch: 'batch' }, g.nodes, h, 'test');
}

test('on random small graphs, every proof holds at fresh samples, witnesses are genuine, counts add up', () => {
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 1, max: 2 }), fc.double({ min: 0.02, max: 0.6, noNaN: true }), (seed, nBoxes, eps) => {
      const g = randomGraph(seed);
      const r = mulberry32(seed ^ 0x5bd1e995);
      const boxes = Array.from({ length: nBoxes }, () => ball(r, 16, eps));
      const c = graphPhaseCensus(g, boxes, { ...WORK, samples: 16, seed });
      const pts = boxes.flatMap((b) => freshPoints(r, b, 150));
      assertSound(g, boxes, c, pts, `seed ${seed}`);
      assertCounts(c, `seed ${seed}`);
      assert.ok(c.reason === undefined || c.reason.startsWith('work limit'), `seed ${seed}: ${c.reason}`);
    }),
    { numRuns: 25 },
  );
});

test('the demo CNNs (BatchNorm, MaxPool, residual Add; LeakyRelu, Clip, PRelu): proofs, witnesses, channels', () => {
  const nets: Array<[string, Graph]> = [
    ['pytorchCnn', parseOnnxGraph(pytorchCnn(), 'pytorch.onnx')],
    ['mixedCnn', parseOnnxGraph(mixedCnn(), 'mixed.onnx')],
  ];
  for (const [name, g] of nets) {
    const n = size(g.input.shape);
    for (const eps of [0.01, 0.1]) {
      const r = mulberry32(Math.round(eps * 1000));
      const box = ball(r, n, eps, 0, 1);
      const c = graphPhaseCensus(g, [box], { ...WORK, seed: 3 });
      const what = `${name} eps ${eps}`;
      assertSound(g, [box], c, freshPoints(r, box, 200), what);
      assertCounts(c, what);
      // the small ball is mostly decided, even with 40 claims per step
      if (eps < 0.05) assert.ok(c.totals.unknown < 0.2 * sum(c.totals), `${what}: ${JSON.stringify(c.totals)}`);
      assert.ok(c.totals.never + c.totals.always > 0 && c.totals.both > 0, `${what}: ${JSON.stringify(c.totals)}`);
    }
  }
});

test('deterministic for given options; a deadline of 0 leaves everything witnessed or unknown, with the reason', () => {
  const g = parseOnnxGraph(pytorchCnn(), 'pytorch.onnx');
  const box = ball(mulberry32(5), size(g.input.shape), 0.05, 0, 1);
  const a = graphPhaseCensus(g, [box], { ...WORK, seed: 9 });
  const b = graphPhaseCensus(g, [box], { ...WORK, seed: 9 });
  assert.deepEqual(a.layers.map((l) => l.phases), b.layers.map((l) => l.phases));
  assert.deepEqual(a.work, b.work);
  const z = graphPhaseCensus(g, [box], { timeoutMs: 0 });
  assert.match(z.reason ?? '', /^timeout/);
  assert.equal(z.totals.never + z.totals.always, 0);
  assertCounts(z, 'deadline 0');
});

test('more work decides no less, and never contradicts less work', () => {
  const g = randomGraph(11);
  const box = ball(mulberry32(12), 16, 0.3);
  const few = graphPhaseCensus(g, [box], { timeoutMs: LONG, maxClaims: 2, attackSteps: 0, alpha: false });
  const many = graphPhaseCensus(g, [box], { timeoutMs: LONG, maxClaims: 400, attackSteps: 4 });
  assert.ok(few.totals.unknown >= many.totals.unknown, `${few.totals.unknown} vs ${many.totals.unknown}`);
  few.layers.forEach((L, s) =>
    L.phases.forEach((p, i) => {
      const q = many.layers[s].phases[i];
      // the same samples and CROWN pass, then the same first claims in the same order: witnesses and proofs persist
      if (p !== 'unknown') assert.equal(q, p, `${L.node}[${i}]: ${p} then ${q}`);
    }),
  );
});

// ---------- against the chain census ----------

function chainGraph(seed: number): Graph {
  const g = builder(mulberry32(seed));
  const widths = [3, 7, 7, 5, 2];
  let h = 'x';
  for (let l = 0; l + 1 < widths.length; l++) {
    h = g.dense(h, widths[l], widths[l + 1]);
    if (l + 2 < widths.length) h = g.add('relu', [h]);
  }
  return buildGraph({ name: 'x', shape: [3], batch: 1 }, g.nodes, h, 'chain');
}

test('on chain graphs, no element proved never (always) by one census is witnessed active (inactive) by the other', () => {
  let compared = 0;
  let agreedProofs = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const g = chainGraph(seed);
    const net = graphToChain(g);
    const box = ball(mulberry32(seed + 100), 3, 0.4);
    const ours = graphPhaseCensus(g, [box], { timeoutMs: LONG, maxClaims: 200, attackSteps: 4, seed });
    const theirs = phaseCensus(net, [box], { boundsFn: crownBounds, timeoutMs: LONG, maxBoxes: 20_000, seed });
    assertSound(g, [box], ours, freshPoints(mulberry32(seed), box, 300), `chain ${seed}`);
    for (const np of theirs.neurons) {
      const L = ours.layers[np.layer];
      assert.equal(L.phases.length, net.layers[np.layer].outSize);
      const p = L.phases[np.index];
      const at = `chain ${seed} ${np.layer}:${np.index} (${p} / chain ${np.phase})`;
      if (np.phase === 'both') assert.ok(p !== 'never' && p !== 'always', at);
      if (p === 'both') assert.ok(np.phase !== 'never' && np.phase !== 'always', at);
      if (np.phase === 'never') assert.ok(L.activeAt[np.index] < 0, at);
      if (np.phase === 'always') assert.ok(L.inactiveAt[np.index] < 0, at);
      if ((p === 'never' || p === 'always') && p === np.phase) agreedProofs++;
      compared++;
    }
  }
  assert.ok(compared > 50 && agreedProofs > 0, `${compared} compared, ${agreedProofs} proofs agreed`);
});

test('a bound refused (a divisor whose interval contains 0): no proofs, the witnesses stand, the reason names it', () => {
  const g = builder(mulberry32(21));
  const a = g.add('relu', [g.conv('x', 1, 2)]);
  const d = g.add('div', [a, g.conv('x', 1, 2)]);
  const out = g.add('relu', [d]);
  const gr = buildGraph({ name: 'x', shape: [1, 4, 4], batch: 'batch' }, g.nodes, out, 'div');
  const box = ball(mulberry32(22), 16, 0.5);
  const c = graphPhaseCensus(gr, [box], { ...WORK, samples: 32 });
  assert.match(c.reason ?? '', /^bound refused: node 'n\d+' \(div\)/);
  assert.equal(c.totals.never + c.totals.always, 0);
  assert.ok(c.totals.both > 0, JSON.stringify(c.totals));
  assertWitnesses(gr, [box], c, 'div');
  assertCounts(c, 'div');
});
