/**
 * Every search ends, within a memory bound as well as a time bound (issue 25): networks of zero weights are decided
 * at once, a tiny cap on open boxes or nodes stops each search with unknown and the reason (never with a proof),
 * and a domain of 100,000 boxes is worked on as a bounded number of hulls. Limits here are work limits (boxes,
 * nodes) with generous clocks: the answers do not depend on the machine's speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forward, forwardTrace, makeLayer, type Network } from '../src/model/network.ts';
import { containsPoint, makeBox, samplePoints, type Box } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { intervalBounds } from '../src/bounds/interval.ts';
import { symbolicBounds } from '../src/bounds/symbolic.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { phaseCensus } from '../src/verify/phase/phase.ts';
import { decideProperty } from '../src/verify/property/property.ts';
import { maximizeLinear } from '../src/verify/property/maximize.ts';
import { ReluBab } from '../src/verify/search/relu-bab.ts';
import { checkClass, checkLinf } from '../src/verify/equiv/equiv.ts';
import { coverDomain, MAX_DOMAIN_BOXES } from '../src/verify/search/cover.ts';
import { alignedPair } from '../src/verify/equiv/diff/diff-pair.ts';
import { prune } from '../src/simplify/prune.ts';
import type { VnnProperty } from '../src/formats/vnnlib.ts';
import { randomNetwork } from './helpers/nets.ts';

/** A network of the given sizes whose layers listed in `zero` (or all) have zero weights and biases. */
function zeroed(sizes: number[], zero: number[] | 'all', seed = 5): Network {
  const base = randomNetwork(seed, sizes);
  const layers = base.layers.map((L, k) =>
    zero === 'all' || zero.includes(k) ? makeLayer(L.inSize, L.outSize, new Float64Array(L.inSize * L.outSize), new Float64Array(L.outSize), L.relu) : L,
  );
  return { inputSize: sizes[0], layers };
}

const cube = (n: number): Box => makeBox(new Array(n).fill(-1), new Array(n).fill(1));

/** Largest and smallest pre-activation of every neuron over samples of the box. */
function sampledRanges(net: Network, box: Box, count = 20_000) {
  const xs = samplePoints(box, count, mulberry32(9));
  const tr = forwardTrace(net, xs, count);
  return net.layers.map((L, k) => {
    const lo = new Float64Array(L.outSize).fill(Infinity);
    const hi = new Float64Array(L.outSize).fill(-Infinity);
    for (let s = 0; s < count; s++) {
      for (let i = 0; i < L.outSize; i++) {
        const v = tr.pre[k][s * L.outSize + i];
        lo[i] = Math.min(lo[i], v);
        hi[i] = Math.max(hi[i], v);
      }
    }
    return { lo, hi };
  });
}

test('a pre-activation identically 0 gets the bounds [0, 0] exactly (interval, symbolic, CROWN)', () => {
  const net = zeroed([3, 6, 6, 6, 2], [1]);
  for (const fn of [intervalBounds, symbolicBounds, crownBounds]) {
    const b = fn(net, cube(3));
    // layer 1 is all zero: exactly 0; the layer after it sees only zeros and computes its bias, not widened to 0
    assert.deepEqual(Array.from(b[1].lo), new Array(6).fill(0), fn.name);
    assert.deepEqual(Array.from(b[1].hi), new Array(6).fill(0), fn.name);
    assert.ok(b[0].hi.some((v, i) => v > b[0].lo[i]), 'layer 0 is not constant');
  }
});

test('networks of zero weights (all, or one layer in the middle) are decided at once: census, prune, verify, maximum', () => {
  for (const net of [zeroed([3, 8, 8, 2], 'all'), zeroed([3, 8, 8, 8, 2], [1])]) {
    const box = cube(3);
    const c = phaseCensus(net, [box], { boundsFn: crownBounds, timeoutMs: 60_000, maxBoxes: 64, finishMaxBoxes: 64 });
    assert.ok(c.boxes <= 64, `${c.boxes} boxes`);
    // the zero layers' neurons are never active; every verdict agrees with evaluation
    const ranges = sampledRanges(net, box);
    for (const np of c.neurons) {
      const r = ranges[np.layer];
      if (np.layer === 1 || net.layers[0].weights.every((w) => w === 0)) assert.equal(np.phase, 'never', `${np.layer}:${np.index}`);
      if (np.phase === 'never') assert.ok(r.hi[np.index] <= 0);
      if (np.phase === 'always') assert.ok(r.lo[np.index] >= 0);
      assert.notEqual(np.phase, 'unknown', `${np.layer}:${np.index} ${np.method}`);
    }
    const p = prune(net, { domain: [box], tolerance: { kind: 'exact' }, boundsFn: crownBounds, queryTimeoutMs: 20_000, maxBoxes: 64 });
    // the zero layer cuts every path: everything goes, and the result is the same constant
    assert.equal(p.after.neurons, 0);
    assert.equal(p.network.layers.length, 1);
    const xs = samplePoints(box, 1000, mulberry32(2));
    const yf = forward(net, xs, 1000);
    const yg = forward(p.network, xs, 1000);
    yf.forEach((v, i) => assert.ok(Math.abs(v - yg[i]) <= 1e-12));
    // verify: y0 >= y0's value + 0.5 cannot happen, y0 >= y0's value can (evaluation decides which)
    const y0 = yf[0];
    for (const [t, want] of [[y0 + 0.5, 'unsat'], [y0, 'sat']] as const) {
      const prop: VnnProperty = { nInputs: 3, nOutputs: 2, regions: [{ box, unsafe: [[{ coeffs: Float64Array.of(-1, 0), rhs: -t }]] }] };
      const r = decideProperty(net, prop, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 60_000, maxBoxes: 64 });
      assert.equal(r.result, want);
    }
    // the maximum of a zero neuron is proved to be 0, so the threshold question "at most 0?" is settled
    const m = maximizeLinear(net, [box], 1, Float64Array.from({ length: 8 }, (_, i) => (i === 0 ? 1 : 0)), 0, { timeoutMs: 60_000, threshold: 0, maxBoxes: 64 });
    assert.equal(m.status, 'proved');
    assert.ok(m.bound <= 0);
  }
});

/** A property of a deep random network that holds (its threshold below the grid's minimum) but needs splitting. */
function hardProperty(): { net: Network; prop: VnnProperty } {
  const net = randomNetwork(21, [2, 16, 16, 16, 1]);
  const box = cube(2);
  const xs = samplePoints(box, 40_000, mulberry32(4));
  const y = forward(net, xs, 40_000);
  const min = Math.min(...y);
  // unsafe: y <= min - 0.01
  return { net, prop: { nInputs: 2, nOutputs: 1, regions: [{ box, unsafe: [[{ coeffs: Float64Array.of(1), rhs: min - 0.01 }]] }] } };
}

test('the property search: a tiny cap on open boxes stops it with unknown (memory limit), a work limit with box limit', () => {
  const { net, prop } = hardProperty();
  const base = { boundsFn: crownBounds, outputLinearLower, timeoutMs: 120_000, samples: 200, descents: 2 };
  const full = decideProperty(net, prop, { ...base, maxBoxes: 200_000 });
  assert.notEqual(full.result, 'unknown');
  assert.ok(full.boxes > 20, `${full.boxes} boxes: the cap below must matter`);
  const capped = decideProperty(net, prop, { ...base, maxOpen: 2 });
  assert.equal(capped.result, 'unknown');
  assert.equal(capped.reason, 'memory limit');
  const worked = decideProperty(net, prop, { ...base, maxBoxes: 10 });
  assert.equal(worked.result, 'unknown');
  assert.equal(worked.reason, 'box limit');
  assert.ok(worked.boxes <= 10 + 8, `${worked.boxes}`);
});

test('with many inputs (ReLU splitting): a tiny cap on open nodes stops it with unknown (memory limit)', () => {
  const net = randomNetwork(3, [12, 24, 24, 1]);
  const box = makeBox(new Array(12).fill(-1), new Array(12).fill(1));
  const xs = samplePoints(box, 20_000, mulberry32(4));
  const min = Math.min(...forward(net, xs, 20_000));
  // halfway between CROWN's bound and the sampled minimum: it holds, but only ReLU splitting shows it
  const lb = crownBounds(net, box)[2].lo[0];
  const rhs = (lb + min) / 2;
  const prop: VnnProperty = { nInputs: 12, nOutputs: 1, regions: [{ box, unsafe: [[{ coeffs: Float64Array.of(1), rhs }]] }] };
  const opts = { boundsFn: crownBounds, outputLinearLower, timeoutMs: 120_000, alphaSteps: 0 };
  const full = decideProperty(net, prop, { ...opts, maxBoxes: 100_000 });
  assert.equal(full.result, 'unsat');
  assert.ok(full.boxes > 10, `${full.boxes} nodes: the cap below must matter`);
  const r = decideProperty(net, prop, { ...opts, maxOpen: 1 });
  assert.equal(r.result, 'unknown');
  assert.equal(r.reason, 'memory limit');
  const w = decideProperty(net, prop, { ...opts, maxBoxes: 3 });
  assert.equal(w.result, 'unknown');
  assert.equal(w.reason, 'box limit');
  // the search itself: stopped, exhausted, the reason kept; never proved
  const bab = new ReluBab(net, box, crownBounds(net, box), Float64Array.of(1), -rhs, { maxOpen: 1, rootIterations: 0 });
  assert.ok(!bab.settled);
  {
    assert.equal(bab.run(Date.now() + 120_000), 'unknown');
    assert.equal(bab.limit, 'memory limit');
    assert.ok(bab.exhausted);
  }
  const worked = new ReluBab(net, box, crownBounds(net, box), Float64Array.of(1), -rhs, { maxNodes: 3, rootIterations: 0 });
  assert.ok(!worked.settled);
  {
    assert.equal(worked.run(Date.now() + 120_000), 'unknown');
    assert.equal(worked.limit, 'box limit');
    assert.ok(worked.nodes <= 3 + 2);
  }
});

test('the maximisation: a tiny cap on open boxes gives unknown (memory limit) with a sound enclosure', () => {
  const net = randomNetwork(8, [2, 12, 12, 12, 1]);
  const box = cube(2);
  const c = Float64Array.of(1);
  const r = maximizeLinear(net, [box], 3, c, 0, { timeoutMs: 120_000, precision: 1e-9, relativePrecision: 0, maxOpen: 2 });
  assert.equal(r.status, 'unknown');
  assert.equal(r.reason, 'memory limit');
  const worked = maximizeLinear(net, [box], 3, c, 0, { timeoutMs: 120_000, precision: 1e-9, relativePrecision: 0, maxBoxes: 20 });
  assert.equal(worked.status, 'unknown');
  assert.equal(worked.reason, 'box limit');
  const y = forward(net, samplePoints(box, 20_000, mulberry32(1)), 20_000);
  for (const m of [r, worked]) assert.ok(m.bound >= Math.max(...y) && m.value <= m.bound);
});

test('the phase census: a tiny cap on open boxes leaves the open neurons unknown (memory limit), never proved wrongly', () => {
  const net = randomNetwork(12, [2, 12, 12, 12, 2]);
  const box = cube(2);
  const opts = { boundsFn: crownBounds, timeoutMs: 120_000, finish: false, seed: 3 };
  const capped = phaseCensus(net, [box], { ...opts, maxOpen: 1 });
  const full = phaseCensus(net, [box], { ...opts, maxBoxes: 200_000 });
  const open = capped.neurons.filter((np) => np.phase === 'unknown');
  assert.ok(open.length > 0 && open.every((np) => np.method === 'memory limit'), JSON.stringify(open.map((np) => np.method)));
  assert.ok(full.counts.unknown < capped.counts.unknown);
  const ranges = sampledRanges(net, box);
  for (const np of capped.neurons) {
    if (np.phase === 'never') assert.ok(ranges[np.layer].hi[np.index] <= 0);
    if (np.phase === 'always') assert.ok(ranges[np.layer].lo[np.index] >= 0);
  }
  const worked = phaseCensus(net, [box], { ...opts, maxBoxes: 4 });
  assert.ok(worked.boxes <= 4 + 2);
  assert.ok(worked.neurons.filter((np) => np.phase === 'unknown').every((np) => np.method === 'box limit'));
});

test('the difference and class branch and bound: a tiny cap on open boxes gives unknown (memory limit)', () => {
  const f = randomNetwork(30, [2, 12, 12, 2]);
  // g: f with one hidden neuron's output weights scaled a little (same shapes)
  const L1 = f.layers[1];
  const w = Float64Array.from(L1.weights);
  for (let i = 0; i < L1.outSize; i++) w[i * L1.inSize] *= 1.05;
  const g: Network = { inputSize: 2, layers: [f.layers[0], makeLayer(L1.inSize, L1.outSize, w, L1.bias, L1.relu), f.layers[2]] };
  const pair = alignedPair(f, g);
  const box = cube(2);
  const xs = samplePoints(box, 20_000, mulberry32(6));
  const yf = forward(f, xs, 20_000);
  const yg = forward(g, xs, 20_000);
  let seen = 0;
  yf.forEach((v, i) => (seen = Math.max(seen, Math.abs(v - yg[i]))));
  const eps = seen * 1.2;
  const full = checkLinf(pair, [box], eps, { boundsFn: crownBounds, timeoutMs: 120_000, maxBoxes: 200_000 });
  assert.equal(full.verdict.status, 'proved');
  assert.ok(full.boxes > 5, `${full.boxes} boxes: the cap below must matter`);
  const capped = checkLinf(pair, [box], eps, { boundsFn: crownBounds, timeoutMs: 120_000, maxOpen: 1 });
  assert.equal(capped.verdict.status, 'unknown');
  assert.equal(capped.verdict.status === 'unknown' && capped.verdict.reason, 'memory limit');
  const worked = checkLinf(pair, [box], eps, { boundsFn: crownBounds, timeoutMs: 120_000, maxBoxes: 5 });
  assert.equal(worked.verdict.status === 'unknown' && worked.verdict.reason, 'box limit');
  const cls = checkClass(pair, [box], 'argmax', 0, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 120_000, maxOpen: 1 });
  if (cls.verdict.status !== 'refuted') {
    assert.equal(cls.verdict.status, 'unknown');
    assert.equal(cls.verdict.status === 'unknown' && cls.verdict.reason, 'memory limit');
  }
});

/** 100,000 small boxes scattered over [-1, 1]^2 x [-0.2, 0.2] (a VNN-LIB-like disjunction). */
function manyBoxes(count = 100_000): Box[] {
  const rng = mulberry32(11);
  return Array.from({ length: count }, () => {
    const c = [rng() * 2 - 1, rng() * 2 - 1, rng() * 0.4 - 0.2];
    return makeBox(c.map((v) => v - 0.004), c.map((v) => v + 0.004));
  });
}

test('a domain of 100,000 boxes is covered by at most MAX_DOMAIN_BOXES hulls; membership is exact', () => {
  const boxes = manyBoxes();
  const cover = coverDomain(boxes);
  assert.ok(cover.merged && cover.boxes.length <= MAX_DOMAIN_BOXES);
  assert.equal(cover.members.reduce((s, m) => s + m.length, 0), boxes.length);
  cover.members.forEach((ms, g) => ms.forEach((b) => assert.ok(containsPoint(cover.boxes[g], b.lo) && containsPoint(cover.boxes[g], b.hi))));
  const rng = mulberry32(3);
  for (let t = 0; t < 300; t++) {
    const x = [rng() * 2 - 1, rng() * 2 - 1, rng() * 0.4 - 0.2];
    assert.equal(cover.contains(x), boxes.some((b) => containsPoint(b, x)));
  }
  assert.ok(boxes.slice(0, 100).every((b) => cover.contains(b.hi)));
  // few boxes: the domain itself
  const few = boxes.slice(0, 3);
  assert.equal(coverDomain(few).boxes, few);
});

test('prune on 100,000 input boxes ends within a work limit, and what it removes is right on every box', () => {
  const net = randomNetwork(3, [3, 10, 10, 2]);
  const boxes = manyBoxes();
  const r = prune(net, { domain: boxes, tolerance: { kind: 'exact' }, boundsFn: crownBounds, outputLinearLower, queryTimeoutMs: 60_000, maxBoxes: 2000, finishTasks: 4 });
  // the tree started from the cover's hulls and kept to its work limit
  assert.ok(r.census.boxes <= 2000 + MAX_DOMAIN_BOXES, `${r.census.boxes} boxes`);
  // samples of the boxes themselves: never-active neurons are never positive, always-active never negative; the
  // pruned network computes the same outputs
  const rng = mulberry32(8);
  const count = 20_000;
  const xs = new Float64Array(count * 3);
  for (let s = 0; s < count; s++) {
    const b = boxes[Math.floor(rng() * boxes.length)];
    for (let i = 0; i < 3; i++) xs[s * 3 + i] = b.lo[i] + (b.hi[i] - b.lo[i]) * rng();
  }
  const tr = forwardTrace(net, xs, count);
  for (const np of r.census.neurons) {
    const m = net.layers[np.layer].outSize;
    for (let s = 0; s < count; s++) {
      const v = tr.pre[np.layer][s * m + np.index];
      if (np.phase === 'never') assert.ok(v <= 0);
      if (np.phase === 'always') assert.ok(v >= 0);
    }
    // a 'both' neuron's witnesses lie in the domain
    if (np.phase === 'both') assert.ok(boxes.some((b) => containsPoint(b, np.activeWitness!)) && boxes.some((b) => containsPoint(b, np.inactiveWitness!)));
  }
  const yf = forward(net, xs, count);
  const yg = forward(r.network, xs, count);
  yf.forEach((v, i) => assert.ok(Math.abs(v - yg[i]) <= 1e-9 * (1 + Math.abs(v))));
  // and a tolerance on them: every query bounded (hulls), refutations only by points of the boxes
  const t = prune(net, { domain: boxes, tolerance: { kind: 'linf', epsilon: 0.05 }, boundsFn: crownBounds, outputLinearLower, queryTimeoutMs: 60_000, toleranceBudgetMs: 600_000, maxBoxes: 300, finishTasks: 4 });
  assert.ok(t.toleranceSearch && t.toleranceSearch.queries > 0);
});
