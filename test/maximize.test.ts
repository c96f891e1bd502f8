/**
 * Maximising / minimising a linear function of one layer over a box: the proved bound must hold at every point of
 * a dense grid (an independent view of the function), the witness's value must be what plain evaluation gives, and a
 * "proved" answer must be within the precision asked of the grid's optimum. One neuron's phase against the grid and
 * the phase census.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forwardTrace } from '../src/model/network.ts';
import { containsPoint, makeBox, samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { readNNet } from '../src/formats/nnet.ts';
import { maximizeLinear, minimizeLinear, neuronPhase } from '../src/verify/property/maximize.ts';
import { WorkerPool } from '../src/pool/pool.ts';
import { phaseCensus } from '../src/verify/phase/phase.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';
import { maximizeByRegions, maximizeBySearch } from '../src/verify/search/search.ts';
import { boxGrid, randomBox, randomNetwork } from './helpers/nets.ts';
import { acasNnet, SKIP_SHARED } from './helpers/shared.ts';

test('max and min of c . z_k over a box: bound beyond every grid point, witness value exact, gap within precision', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), (seed, k, maximise) => {
      const rng = mulberry32(seed);
      const net = randomNetwork(seed, [2, 8, 8, 6, 3], 0.2);
      const box = randomBox(seed + 1, 2, 3);
      const width = net.layers[k].outSize;
      const c = Float64Array.from({ length: width }, () => (rng() < 0.5 ? 0 : rng() * 2 - 1));
      const d = rng() - 0.5;
      const precision = 1e-3;
      const r = (maximise ? maximizeLinear : minimizeLinear)(net, [box], k, c, d, { timeoutMs: 120_000, maxBoxes: 200_000, precision, relativePrecision: 0 });
      const sgn = maximise ? 1 : -1;
      // the witness: inside the box, and its value is the objective there
      assert.ok(containsPoint(box, r.witness));
      const at = forwardTrace(net, r.witness, 1).pre[k];
      let v = d;
      for (let i = 0; i < width; i++) v += c[i] * at[i];
      assert.equal(r.value, v);
      // the bound is beyond every grid point; the witness is no better than the bound
      const G = 60;
      const { count, tr } = boxGrid(net, box, G);
      let opt = -Infinity;
      for (let s = 0; s < count; s++) {
        let g = d;
        for (let i = 0; i < width; i++) g += c[i] * tr.pre[k][s * width + i];
        opt = Math.max(opt, sgn * g);
      }
      assert.ok(sgn * r.bound >= opt, `bound ${r.bound} vs grid optimum ${sgn * opt}`);
      assert.ok(sgn * r.bound >= sgn * r.value);
      if (r.status === 'proved') {
        assert.ok(sgn * (r.bound - r.value) <= precision * (1 + 1e-9), `gap ${Math.abs(r.bound - r.value)}`);
        // so the witness is within the precision of the true optimum, which is at least the grid's
        assert.ok(sgn * r.value >= opt - precision, `value ${r.value} vs grid optimum ${sgn * opt}`);
      }
    }),
    { numRuns: 40 },
  );
});

test('on a small network every query is proved to 1e-4 within the time limit', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const net = randomNetwork(seed, [2, 6, 6, 2], 0.2);
    const box = makeBox([-1, -1], [1, 1]);
    const c = Float64Array.of(1, -1);
    for (const f of [maximizeLinear, minimizeLinear]) {
      const r = f(net, [box], 2, c, 0, { timeoutMs: 120_000, maxBoxes: 200_000, precision: 1e-4, relativePrecision: 0 });
      assert.equal(r.status, 'proved', `seed ${seed}: gap ${Math.abs(r.bound - r.value)} after ${r.boxes} boxes`);
    }
  }
});

test('ACAS Xu 1_1, a second-layer neuron: the proved minimum lies below 20,000 samples', { skip: SKIP_SHARED }, () => {
  const m = readNNet(acasNnet(1, 1));
  const net = m.network;
  const D = m.domain!;
  const c = new Float64Array(50);
  c[3] = 1;
  const r = minimizeLinear(net, [D], 1, c, 0, { timeoutMs: 20000 });
  assert.equal(r.status, 'proved');
  const N = 20000;
  const tr = forwardTrace(net, samplePoints(D, N, mulberry32(3)), N);
  let lo = Infinity;
  for (let s = 0; s < N; s++) lo = Math.min(lo, tr.pre[1][s * 50 + 3]);
  assert.ok(r.bound <= lo && r.value <= lo + Math.max(1e-3, 1e-3 * Math.abs(r.value)), `[${r.bound}, ${r.value}] vs sampled min ${lo}`);
});

test('many inputs (ReLU splitting): the bound holds at 20,000 samples and small networks are proved', async () => {
  // fully split nodes find their counterexample by LP
  await loadMilpSolver();
  for (let seed = 1; seed <= 6; seed++) {
    const net = randomNetwork(seed, [12, 10, 8, 3], 0.2);
    const box = randomBox(seed + 7, 12, 0.6);
    const c = Float64Array.of(1, -0.5, 0);
    const N = 20000;
    const tr = forwardTrace(net, samplePoints(box, N, mulberry32(seed)), N);
    let hi = -Infinity;
    let lo = Infinity;
    for (let s = 0; s < N; s++) {
      const v = tr.pre[2][3 * s] - 0.5 * tr.pre[2][3 * s + 1];
      hi = Math.max(hi, v);
      lo = Math.min(lo, v);
    }
    const mx = maximizeLinear(net, [box], 2, c, 0, { timeoutMs: 120_000, maxBoxes: 200_000, relativePrecision: 0 });
    const mn = minimizeLinear(net, [box], 2, c, 0, { timeoutMs: 120_000, maxBoxes: 200_000, relativePrecision: 0 });
    for (const [r, sgn, sampled] of [[mx, 1, hi], [mn, -1, lo]] as const) {
      assert.ok(sgn * r.bound >= sgn * sampled, `seed ${seed}: bound ${r.bound} vs sampled ${sampled}`);
      assert.ok(containsPoint(box, r.witness));
      const at = forwardTrace(net, r.witness, 1).pre[2];
      assert.equal(r.value, at[0] - 0.5 * at[1]);
      assert.equal(r.status, 'proved', `seed ${seed}: [${r.value}, ${r.bound}] after ${r.boxes} nodes`);
      assert.ok(sgn * (r.bound - r.value) <= 1e-3 * (1 + 1e-9));
    }
  }
});

test('one neuron\'s phase: never / always proved only where a dense grid agrees, both with checked witnesses, the census (a second algorithm) never contradicts it, and two worker threads grow the same tree as one', async () => {
  let decided = 0;
  const two = new WorkerPool(2);
  try {
  for (let seed = 1; seed <= 8; seed++) {
    const net = randomNetwork(seed, [2, 8, 8, 3], { biasScale: 1.5 });
    const box = randomBox(seed + 3, 2, 2);
    const census = phaseCensus(net, [box], { boundsFn: crownBounds, timeoutMs: 120_000, maxBoxes: 200_000 });
    const G = 80;
    const { count, tr } = boxGrid(net, box, G);
    for (const layer of [0, 1]) {
      for (let i = 0; i < 8; i++) {
        const r = await neuronPhase(net, [box], layer, i, { timeoutMs: 120_000, maxBoxes: 200_000 }, two);
        let gmax = -Infinity;
        let gmin = Infinity;
        for (let s = 0; s < count; s++) {
          gmax = Math.max(gmax, tr.pre[layer][s * 8 + i]);
          gmin = Math.min(gmin, tr.pre[layer][s * 8 + i]);
        }
        const where = `seed ${seed} neuron ${layer}:${i}`;
        if (r.phase === 'never') assert.ok(gmax <= 0 && r.upper <= 0 && r.upper >= gmax, where);
        if (r.phase === 'always') assert.ok(gmin >= 0 && r.lower >= 0 && r.lower <= gmin, where);
        if (r.phase === 'both') {
          assert.ok(forwardTrace(net, r.activeWitness!, 1).pre[layer][i] > 0, where);
          assert.ok(forwardTrace(net, r.inactiveWitness!, 1).pre[layer][i] < 0, where);
        }
        if (gmax > 0 && gmin < 0) assert.equal(r.phase, 'both', where);
        const c = census.neurons.find((x) => x.layer === layer && x.index === i)!;
        if (c.phase !== 'unknown' && r.phase !== 'unknown') assert.equal(r.phase, c.phase, where);
        if (r.phase !== 'unknown') decided++;
      }
    }
  }
  } finally {
    await two.close();
  }
  assert.equal(decided, 8 * 16, 'every neuron of these small networks decided');
});

test('a neuron\'s phase on two worker threads: the same trees, bounds, witnesses and boxes as on one', async () => {
  const one = new WorkerPool(1);
  const two = new WorkerPool(2);
  let grown = 0;
  try {
    const kinds = [
      { sizes: [3, 20, 20, 20, 20, 2], biasScale: 0.3, width: 3 },
      { sizes: [4, 16, 16, 16, 2], biasScale: 0.2, width: 3 },
    ];
    for (const { sizes, biasScale, width } of kinds) {
      const layer = sizes.length - 3;
      for (let seed = 1; seed <= 3; seed++) {
        const net = randomNetwork(seed + 40, sizes, { biasScale });
        const box = randomBox(seed + 9, sizes[0], width);
        for (let i = 0; i < sizes[layer + 1]; i += 3) {
          // one tree per threshold question (the widest input), so its steps do not depend on where they ran
          const r = await neuronPhase(net, [box], layer, i, { timeoutMs: 120_000, maxBoxes: 200_000 }, two);
          const here = await neuronPhase(net, [box], layer, i, { timeoutMs: 120_000, maxBoxes: 200_000 }, one);
          assert.deepEqual({ ...r, timeMs: 0 }, { ...here, timeMs: 0 }, `seed ${seed} neuron ${layer}:${i}`);
          if (r.boxes > 50) grown++;
        }
      }
    }
  } finally {
    await one.close();
    await two.close();
  }
  assert.ok(grown >= 3, `trees of many steps: ${grown}`);
});

test('walk over linear regions (LP per region): never below its starts, never above the proved maximum, a true evaluation', async () => {
  await loadMilpSolver();
  let better = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const net = randomNetwork(seed, [3, 10, 10, 2], { biasScale: 1 });
    const box = randomBox(seed + 5, 3, 2);
    const c = Float64Array.of(1, -1);
    const xs = samplePoints(box, 4, mulberry32(seed));
    const starts = [0, 1, 2, 3].map((s) => xs.slice(3 * s, 3 * s + 3));
    const val = (x: Float64Array): number => {
      const y = forwardTrace(net, x, 1).pre[2];
      return y[0] - y[1];
    };
    const r = maximizeByRegions(net, box, 2, c, starts, Date.now() + 2000);
    assert.ok(containsPoint(box, r.x));
    assert.equal(r.value, val(r.x));
    assert.ok(r.value >= Math.max(...starts.map(val)));
    const asc = maximizeBySearch(net, box, 2, c, starts, 40);
    const proved = maximizeLinear(net, [box], 2, c, 0, { timeoutMs: 120_000, maxBoxes: 200_000 });
    assert.ok(r.value <= proved.bound, `seed ${seed}: ${r.value} above the proved maximum ${proved.bound}`);
    if (r.value > asc.value + 1e-9) better++;
  }
  assert.ok(better >= 1, 'the region walk beats plain ascent from the same starts somewhere');
});
