import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cloneNetwork, forward, forwardTrace, type Network } from '../src/model/network.ts';
import { samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { AFFINE, LINEAR, MERGED, REMOVED, applyEdits, emptyEdits } from '../src/simplify/edits.ts';
import { differenceBounds, maxAbsOutputDiff, planDifference } from '../src/verify/equiv/diff/diff-bounds.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { checkClass, checkLinf } from '../src/verify/equiv/equiv.ts';
import { alignedPair } from '../src/verify/equiv/diff/diff-pair.ts';
import { randomBox, randomNetwork, naiveIntervalBounds } from './helpers/nets.ts';

/** Random edits of every kind on a random network; hints may even be wrong (soundness must not depend on them). */
function randomPair(seed: number) {
  const rng = mulberry32(seed);
  const sizes = [2 + Math.floor(rng() * 2), 3 + Math.floor(rng() * 4), 3 + Math.floor(rng() * 4), 2];
  const f = randomNetwork(seed, sizes, 0.2);
  const e = emptyEdits(f);
  for (let k = 0; k < f.layers.length - 1; k++) {
    for (let j = 0; j < f.layers[k].outSize; j++) {
      const r = rng();
      if (r < 0.15) e.state[k][j] = REMOVED;
      else if (r < 0.3) e.state[k][j] = LINEAR;
      else if (r < 0.45) {
        e.state[k][j] = AFFINE;
        e.affS[k][j] = rng();
        e.affC[k][j] = rng() - 0.5;
      } else if (r < 0.55 && j > 0) {
        e.state[k][j] = MERGED;
        e.mergeInto[k][j] = 0;
        e.mergeFactor[k][j] = 0.1 + rng();
      }
    }
  }
  const pair = applyEdits(f, e);
  // half of the pairs also get g's weights and biases perturbed (as rounding would): the residual-weight terms
  // (small, as rounding would, or large: neurons whose phase differs in f and g on the whole box)
  if (rng() < 0.5) {
    const size = rng() < 0.5 ? 0.01 : 1;
    for (const L of pair.g.layers) {
      L.weights.forEach((w, i) => (L.weights[i] = w * (1 + 2 * size * (rng() - 0.5))));
      L.bias.forEach((b, i) => (L.bias[i] = b + size * (rng() - 0.5)));
    }
  }
  return { f, pair };
}

test('difference bounds, interval, symbolic, backward and backward at hidden layers, contain every sampled g(x) - f(x), whatever the hints (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom('interval', 'symbolic', 'backward', 'both', 'hidden'), (seed, how) => {
      const { f, pair } = randomPair(seed);
      const box = randomBox(seed + 1, f.inputSize);
      const plan = planDifference(pair);
      const d = differenceBounds(plan, box, crownBounds(f, box), { symbolic: how === 'symbolic' || how === 'both' || how === 'hidden', backward: how === 'backward' || how === 'both' || how === 'hidden', hidden: how === 'hidden' });
      const xs = samplePoints(box, 300, mulberry32(seed + 2));
      const tf = forwardTrace(f, xs, 300);
      const tg = forwardTrace(pair.g, xs, 300);
      for (let k = 0; k < f.layers.length; k++) {
        const m = f.layers[k].outSize;
        for (let s = 0; s < 300; s++) {
          for (let j = 0; j < m; j++) {
            const ref = pair.refScale[k][j] * tf.pre[k][s * m + j] + pair.refShift[k][j];
            const D = tg.pre[k][s * m + j] - ref;
            if (!(D >= d.lo[k][j] - 1e-9 && D <= d.hi[k][j] + 1e-9)) return false;
          }
        }
      }
      return true;
    }),
    { numRuns: 600 },
  );
});

test('the backward difference is tighter than the interval one on deep pairs with neurons removed in early layers', () => {
  let tighter = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const f = randomNetwork(seed, [40, 16, 16, 16, 16, 3]);
    const e = emptyEdits(f);
    const rng = mulberry32(seed);
    for (let k = 0; k < 2; k++) for (let j = 0; j < 16; j++) if (rng() < 0.2) e.state[k][j] = REMOVED;
    const pair = applyEdits(f, e);
    const box = randomBox(seed + 3, 40);
    const plan = planDifference(pair);
    const fb = crownBounds(f, box);
    const a = maxAbsOutputDiff(differenceBounds(plan, box, fb));
    const b = maxAbsOutputDiff(differenceBounds(plan, box, fb, { backward: true }));
    assert.ok(b <= a, `seed ${seed}: ${b} > ${a}`);
    if (b < 0.7 * a) tighter++;
  }
  // (0.55-0.61 of the interval bound on every seed when written)
  assert.ok(tighter >= 15, `tighter by 30% on ${tighter} of 20`);
});

/** f and a copy g with every weight perturbed by a relative 1e-3 (seeded), planned, with f's bounds on a box. */
function perturbedCopy(f: Network, seed: number) {
  const pair = alignedPair(f, cloneNetwork(f));
  const rng = mulberry32(seed);
  for (const L of pair.g.layers) L.weights.forEach((w, i) => (L.weights[i] = w * (1 + 1e-3 * (rng() - 0.5))));
  const box = randomBox(seed + 3, f.inputSize);
  return { plan: planDifference(pair), box, fb: crownBounds(f, box) };
}

test('the symbolic difference is tighter than the interval one where g shares most of f (perturbed weights)', () => {
  let tighter = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const { plan, box, fb } = perturbedCopy(randomNetwork(seed, [3, 12, 12, 12, 2]), seed);
    const a = maxAbsOutputDiff(differenceBounds(plan, box, fb));
    const b = maxAbsOutputDiff(differenceBounds(plan, box, fb, { symbolic: true }));
    assert.ok(b <= a, `seed ${seed}: ${b} > ${a}`);
    if (b < 0.8 * a) tighter++;
  }
  assert.ok(tighter >= 10, `tighter on ${tighter} of 20`);
});

test('with few inputs the backward output difference next to the symbolic one is tighter than the symbolic alone', () => {
  let tighter = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const { plan, box, fb } = perturbedCopy(randomNetwork(seed + 40, [5, 16, 16, 16, 16, 3]), seed);
    const a = maxAbsOutputDiff(differenceBounds(plan, box, fb, { symbolic: true }));
    const b = maxAbsOutputDiff(differenceBounds(plan, box, fb, { symbolic: true, backward: true }));
    assert.ok(b <= a, `seed ${seed}: ${b} > ${a}`);
    if (b < 0.8 * a) tighter++;
  }
  // (20 of 20 when written)
  assert.ok(tighter >= 15, `tighter by 20% on ${tighter} of 20`);
});

test('an untouched copy has a zero difference bound', () => {
  const f = randomNetwork(5, [3, 8, 8, 2]);
  const pair = alignedPair(f, f);
  const box = randomBox(9, 3);
  const d = differenceBounds(planDifference(pair), box, naiveIntervalBounds(f, box));
  const last = d.lo.length - 1;
  for (let i = 0; i < 2; i++) {
    assert.ok(Math.abs(d.lo[last][i]) < 1e-12 && Math.abs(d.hi[last][i]) < 1e-12, `${d.lo[last][i]} ${d.hi[last][i]}`);
  }
});

test('checkLinf: proved bounds are never below the sampled difference; refutations re-check', () => {
  for (let seed = 1; seed <= 25; seed++) {
    const { f, pair } = randomPair(seed * 7919);
    const box = randomBox(seed, f.inputSize);
    const xs = samplePoints(box, 4000, mulberry32(seed));
    const a = forward(f, xs, 4000);
    const b = forward(pair.g, xs, 4000);
    let sampled = 0;
    for (let i = 0; i < a.length; i++) sampled = Math.max(sampled, Math.abs(a[i] - b[i]));
    const r = checkLinf(pair, [box], 0, { boundsFn: naiveIntervalBounds, timeoutMs: 120_000, maxBoxes: 3000 });
    assert.ok(r.provedBound >= sampled - 1e-12, `seed ${seed}: proved ${r.provedBound} < sampled ${sampled}`);
    const eps = sampled / 2;
    if (eps > 0) {
      const r2 = checkLinf(pair, [box], eps, { boundsFn: naiveIntervalBounds, timeoutMs: 120_000, maxBoxes: 5000 });
      assert.notEqual(r2.verdict.status, 'proved', `seed ${seed}: claimed ${eps} but a sample shows ${sampled}`);
      if (r2.verdict.status === 'refuted') {
        const w = r2.verdict.witness;
        const d = Math.max(...Array.from(forward(f, w, 1), (v, i) => Math.abs(v - forward(pair.g, w, 1)[i])));
        assert.ok(d > eps, 'witness must really violate the tolerance');
      }
    }
  }
});

test('checkClass: proved claims survive sampling', () => {
  let proved = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const f = randomNetwork(seed, [2, 6, 6, 3]);
    const e = emptyEdits(f);
    e.state[1][seed % 6] = REMOVED;
    const pair = applyEdits(f, e);
    const box = randomBox(seed + 100, 2, 0.3);
    const r = checkClass(pair, [box], 'argmin', 0.05, { boundsFn: naiveIntervalBounds, timeoutMs: 120_000, maxBoxes: 200_000 });
    if (r.verdict.status !== 'proved') continue;
    proved++;
    const xs = samplePoints(box, 20000, mulberry32(seed));
    const a = forward(f, xs, 20000);
    const b = forward(pair.g, xs, 20000);
    for (let s = 0; s < 20000; s++) {
      const fa = Array.from(a.subarray(s * 3, s * 3 + 3));
      const ga = Array.from(b.subarray(s * 3, s * 3 + 3));
      const wf = fa.indexOf(Math.min(...fa));
      const wg = ga.indexOf(Math.min(...ga));
      const lead = Math.min(...fa.filter((_, i) => i !== wf)) - fa[wf];
      if (lead >= 0.05) assert.equal(wg, wf, `seed ${seed}: class changed at a sampled point`);
    }
  }
  assert.ok(proved >= 5, `only ${proved} class claims proved: the check is too weak to be tested`);
});

test('proved class margins (bounds, else ReLU splitting, else MILP) hold on every sample', async () => {
  const { loadMilpSolver } = await import('../src/verify/search/milp.ts');
  const { provedClassMargins } = await import('../src/verify/equiv/class-margins.ts');
  const { crownBounds } = await import('../src/bounds/backward.ts');
  const { outputLinearLower } = await import('../src/bounds/objective.ts');
  await loadMilpSolver();
  let proved = 0;
  let viaSearch = 0;
  let nulls = 0;
  for (let seed = 1; seed <= 12; seed++) {
    // wide boxes on small networks: CROWN leaves some margins open and ReLU splitting (or the MILP) settles them in
    // milliseconds
    const f = randomNetwork(seed, [20, 10, 10, 4]);
    const box = randomBox(seed + 40, 20, 0.8);
    const order = seed % 2 ? 'argmax' : 'argmin';
    const r = provedClassMargins(f, [box], order, { boundsFn: crownBounds, outputLinearLower, timeMs: 60_000, maxNodes: 5000 });
    if (!r) {
      nulls++;
      continue;
    }
    const sigma = order === 'argmin' ? 1 : -1;
    const xs = samplePoints(box, 20000, mulberry32(seed));
    const y = forward(f, xs, 20000);
    for (const p of r.proved) {
      proved++;
      if (p.method !== 'bounds') viaSearch++;
      for (let s = 0; s < 20000; s++) assert.ok(sigma * (y[s * 4 + p.output] - y[s * 4 + r.winner]) >= p.margin - 1e-9, `seed ${seed} output ${p.output}`);
    }
  }
  assert.ok(proved >= 8 && viaSearch >= 2, `proved ${proved} margins, ${viaSearch} beyond bounds, ${nulls} boxes with two winners`);
});

test('checkClass with many inputs: where input splitting gives up, ReLU splitting on g proves what survives sampling', async () => {
  const { loadMilpSolver } = await import('../src/verify/search/milp.ts');
  const { provedClassMargins } = await import('../src/verify/equiv/class-margins.ts');
  const { provedUniqueWinner } = await import('../src/verify/equiv/class-relu-split.ts');
  const { outputLinearLower } = await import('../src/bounds/objective.ts');
  await loadMilpSolver();
  const methods = new Map<string, number>();
  for (let seed = 1; seed <= 16; seed++) {
    // 40 inputs: the difference branch and bound stops after 4 boxes
    const f = randomNetwork(seed, [40, 12, 12, 4]);
    const box = randomBox(seed + 7, 40, seed % 2 ? 0.2 : 0.5);
    const order = seed % 2 ? 'argmax' : 'argmin';
    const margins = provedClassMargins(f, [box], order, { boundsFn: crownBounds, outputLinearLower, timeMs: 60_000, maxNodes: 5000 });
    if (!margins || provedUniqueWinner(margins.lower, 4) < 0) continue;
    const pick = (y: Float64Array, s: number): number => {
      let w = 0;
      for (let j = 1; j < 4; j++) if (order === 'argmax' ? y[s * 4 + j] > y[s * 4 + w] : y[s * 4 + j] < y[s * 4 + w]) w = j;
      return w;
    };
    for (let j = 0; j < 12; j += 3) {
      const e = emptyEdits(f);
      e.state[1][j] = REMOVED;
      const pair = applyEdits(f, e);
      const r = checkClass(pair, [box], order, 1e-6, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 60_000, maxNodes: 5000, fLower: margins.lower });
      const key = `${r.verdict.status} ${r.verdict.method}`;
      methods.set(key, (methods.get(key) ?? 0) + 1);
      if (r.verdict.status === 'refuted') {
        const x = r.verdict.witness;
        assert.notEqual(pick(forward(f, x), 0), pick(forward(pair.g, x), 0), `seed ${seed}: the witness changes no class`);
      }
      if (r.verdict.status !== 'proved') continue;
      const xs = samplePoints(box, 20000, mulberry32(seed + j));
      const a = forward(f, xs, 20000);
      const b = forward(pair.g, xs, 20000);
      for (let s = 0; s < 20000; s++) assert.equal(pick(b, s), pick(a, s), `seed ${seed}, neuron ${j}: class changed at a sampled point`);
    }
  }
  assert.ok((methods.get('proved relu-split') ?? 0) >= 4, `proofs by method: ${JSON.stringify([...methods])}`);
});

test('class margins with many inputs: a corner where another class wins, which no sample reaches, means no margins (null)', async () => {
  const { provedClassMargins } = await import('../src/verify/equiv/class-margins.ts');
  const { outputLinearLower } = await import('../src/bounds/objective.ts');
  // 40 inputs in [0, 1]: y0 = 1 and y1 = 40 relu(sum x - 39.5); y1 wins only where every input is near 1
  const n = 40;
  const f = {
    inputSize: n,
    layers: [
      { inSize: n, outSize: 1, weights: new Float64Array(n).fill(1), bias: Float64Array.of(-39.5), relu: Uint8Array.of(1) },
      { inSize: 1, outSize: 2, weights: Float64Array.of(0, 40), bias: Float64Array.of(1, 0), relu: Uint8Array.of(0, 0) },
    ],
  };
  const box = { lo: new Float64Array(n), hi: new Float64Array(n).fill(1) };
  assert.equal(forward(f, box.hi)[1] > forward(f, box.hi)[0], true);
  const r = provedClassMargins(f, [box], 'argmax', { boundsFn: crownBounds, outputLinearLower, timeMs: 60_000, maxNodes: 5000 });
  assert.equal(r, null, JSON.stringify(r?.proved));
});

/**
 * g: the same function as f in another shape. Neuron j of the first hidden layer is split in two (the same row,
 * half the outgoing weight each), and a never-active neuron (zero weights, bias -1) with outgoing weights is added.
 */
function reshaped(f: import('../src/model/network.ts').Network, j: number): import('../src/model/network.ts').Network {
  const [L0, L1, ...rest] = f.layers;
  const n = L0.inSize;
  const h = L0.outSize + 2;
  const w0 = new Float64Array(h * n);
  w0.set(L0.weights);
  for (let i = 0; i < n; i++) w0[L0.outSize * n + i] = L0.weights[j * n + i];
  const b0 = new Float64Array(h);
  b0.set(L0.bias);
  b0[L0.outSize] = L0.bias[j];
  b0[L0.outSize + 1] = -1;
  const w1 = new Float64Array(L1.outSize * h);
  for (let r = 0; r < L1.outSize; r++) {
    for (let c = 0; c < L0.outSize; c++) w1[r * h + c] = L1.weights[r * L0.outSize + c] * (c === j ? 0.5 : 1);
    w1[r * h + L0.outSize] = 0.5 * L1.weights[r * L0.outSize + j];
    w1[r * h + L0.outSize + 1] = 3 * (r + 1);
  }
  return {
    inputSize: n,
    layers: [
      { inSize: n, outSize: h, weights: w0, bias: b0, relu: Uint8Array.from([...L0.relu, L0.relu[j], 1]) },
      { ...L1, inSize: h, weights: w1 },
      ...rest,
    ],
  };
}

test('strangers (any shapes, side by side in one network): proved within a tolerance, refuted beyond it, witnesses real, in this thread and on two workers', async () => {
  const { checkLinfProduct, checkClassProduct } = await import('../src/verify/equiv/equiv-product.ts');
  const { loadMilpSolver } = await import('../src/verify/search/milp.ts');
  const { WorkerPool } = await import('../src/pool/pool.ts');
  await loadMilpSolver();
  const { outputLinearLower } = await import('../src/bounds/objective.ts');
  const two = new WorkerPool(2);
  try {
  for (const pool of [undefined, two]) {
  const opts = { boundsFn: crownBounds, outputLinearLower, timeoutMs: 240_000, maxBoxes: 6000, pool };
  for (const seed of [3, 4, 5]) {
    const f = randomNetwork(seed, [3, 6, 6, 2], 0.2);
    const box = randomBox(seed, 3);
    const g = reshaped(f, 1);
    // g shifted by 0.01 on output 0: the largest difference is exactly 0.01 everywhere
    const shifted = { ...g, layers: g.layers.map((L, k) => (k === g.layers.length - 1 ? { ...L, bias: L.bias.map((b, i) => (i === 0 ? b + 0.01 : b)) } : L)) };
    const same = (await checkLinfProduct(f, g, [box], 1e-3, opts));
    assert.equal(same.verdict.status, 'proved', `seed ${seed}: ${JSON.stringify(same.verdict)}`);
    assert.equal((await checkLinfProduct(f, shifted, [box], 0.02, opts)).verdict.status, 'proved');
    const r = (await checkLinfProduct(f, shifted, [box], 0.005, opts));
    assert.equal(r.verdict.status, 'refuted');
    if (r.verdict.status === 'refuted') {
      const a = forward(f, r.verdict.witness);
      const b = forward(shifted, r.verdict.witness);
      assert.ok(Math.abs(a[0] - b[0]) > 0.005);
    }
    // the report mode: the proved bound holds the true 0.01 and is not far above it
    const rep = (await checkLinfProduct(f, shifted, [box], 0, { ...opts, maxBoxes: 2000 }));
    assert.ok(rep.provedBound >= 0.01 - 1e-9 && rep.provedBound < 0.05, `bound ${rep.provedBound}`);
    assert.ok(Math.abs(rep.foundMax - 0.01) < 1e-9);
    // classes: g's scores doubled keep every winner that leads by a margin; a large shift of one score does not
    const doubled = { ...g, layers: g.layers.map((L, k) => (k === g.layers.length - 1 ? { ...L, weights: L.weights.map((w) => 2 * w), bias: L.bias.map((b) => 2 * b) } : L)) };
    assert.equal((await checkClassProduct(f, doubled, [box], 'argmax', 0.01, opts)).verdict.status, 'proved');
    const ys = forward(f, samplePoints(box, 2000, mulberry32(1)), 2000);
    let gap = 0;
    for (let s = 0; s < 2000; s++) gap = Math.max(gap, ys[2 * s + 1] - ys[2 * s]);
    if (gap > 0.02) {
      // output 0 raised by half the largest lead of output 1: somewhere output 1 led and no longer does
      const raised = { ...g, layers: g.layers.map((L, k) => (k === g.layers.length - 1 ? { ...L, bias: L.bias.map((b, i) => (i === 0 ? b + gap / 2 : b)) } : L)) };
      const c = (await checkClassProduct(f, raised, [box], 'argmax', 0, opts));
      assert.equal(c.verdict.status, 'refuted');
      if (c.verdict.status === 'refuted') {
        const a = forward(f, c.verdict.witness);
        const b = forward(raised, c.verdict.witness);
        assert.notEqual(a[1] > a[0], b[1] > b[0]);
      }
    }
  }
  }
  } finally {
    await two.close();
  }
});
