import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forward, forwardTrace, makeLayer } from '../src/model/network.ts';
import { samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { intervalBounds } from '../src/bounds/interval.ts';
import { symbolicBounds } from '../src/bounds/symbolic.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { backwardBound, crownBounds } from '../src/bounds/backward.ts';
import { alphaCrownBounds, alphaLower, alphaLowerOfMax } from '../src/bounds/alpha.ts';
import { boxGrid, randomBox, randomNetwork } from './helpers/nets.ts';

const methods = {
  interval: intervalBounds,
  symbolic: symbolicBounds,
  crown: crownBounds,
  // never looser than CROWN, checked here too (a looser bound would mean the copy or the merge is wrong)
  'alpha-crown': (net: Parameters<typeof crownBounds>[0], box: Parameters<typeof crownBounds>[1]) => {
    const c = crownBounds(net, box);
    const a = alphaCrownBounds(net, box, c, 6);
    for (let k = 0; k < c.length; k++) for (let i = 0; i < c[k].lo.length; i++) if (a[k].lo[i] < c[k].lo[i] || a[k].hi[i] > c[k].hi[i]) throw new Error('looser than CROWN');
    return a;
  },
};

for (const [name, fn] of Object.entries(methods)) {
  test(`${name} bounds contain every sampled pre-activation (property)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 4 }), (seed, depth) => {
        const rng = mulberry32(seed);
        // up to 12 inputs: crownBounds switches to layer-by-layer intervals when inputs outnumber the widest layer
        const sizes = [1 + Math.floor(rng() * 12)];
        for (let i = 0; i < depth; i++) sizes.push(2 + Math.floor(rng() * 8));
        sizes.push(1 + Math.floor(rng() * 3));
        const net = randomNetwork(seed, sizes, 0.25);
        const box = randomBox(seed + 3, sizes[0], 1 + rng() * 4);
        const b = fn(net, box);
        const xs = samplePoints(box, 200, mulberry32(seed + 5));
        const tr = forwardTrace(net, xs, 200);
        for (let k = 0; k < net.layers.length; k++) {
          const m = net.layers[k].outSize;
          for (let s = 0; s < 200; s++) {
            for (let i = 0; i < m; i++) {
              const v = tr.pre[k][s * m + i];
              if (v < b[k].lo[i] || v > b[k].hi[i]) return false;
            }
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
}

test('bounds given a parent (bounds over a larger box) still contain every sample of the smaller box (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), (seed) => {
      const rng = mulberry32(seed);
      const sizes = [1 + Math.floor(rng() * 12), 2 + Math.floor(rng() * 8), 2 + Math.floor(rng() * 8), 2];
      const net = randomNetwork(seed, sizes, 0.25);
      const big = randomBox(seed + 3, sizes[0], 2);
      const small = { lo: big.lo.slice(), hi: big.hi.slice() };
      for (let i = 0; i < sizes[0]; i++) {
        const a = big.lo[i] + rng() * (big.hi[i] - big.lo[i]);
        const b = big.lo[i] + rng() * (big.hi[i] - big.lo[i]);
        small.lo[i] = Math.min(a, b);
        small.hi[i] = Math.max(a, b);
      }
      for (const fn of [symbolicBounds, crownBounds]) {
        const b = fn(net, small, fn(net, big));
        const xs = samplePoints(small, 200, mulberry32(seed + 5));
        const tr = forwardTrace(net, xs, 200);
        for (let k = 0; k < net.layers.length; k++) {
          const m = net.layers[k].outSize;
          for (let s = 0; s < 200 * m; s++) if (tr.pre[k][s] < b[k].lo[s % m] || tr.pre[k][s] > b[k].hi[s % m]) return false;
        }
      }
      return true;
    }),
    { numRuns: 200 },
  );
});

test('with many inputs, crown bounds (intervals + back-substitution) beat symbolic ones on the outputs', () => {
  // intermediate neurons that intervals already settle keep interval ranges (only their sign matters downstream)
  let ws = 0;
  let wc = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const net = randomNetwork(seed, [40, 12, 12, 12, 3]);
    const box = randomBox(seed, 40, 0.3);
    const a = symbolicBounds(net, box)[3];
    const b = crownBounds(net, box)[3];
    for (let i = 0; i < 3; i++) {
      ws += a.hi[i] - a.lo[i];
      wc += b.hi[i] - b.lo[i];
    }
  }
  assert.ok(wc < 0.8 * ws, `crown ${wc} vs symbolic ${ws}`);
});

test('symbolic bounds are never looser than interval bounds, and much tighter on deep random nets', () => {
  let ratio = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const net = randomNetwork(seed, [3, 20, 20, 20, 20, 2]);
    const box = randomBox(seed, 3, 1);
    const a = intervalBounds(net, box);
    const b = symbolicBounds(net, box);
    for (let k = 0; k < net.layers.length; k++) {
      for (let i = 0; i < net.layers[k].outSize; i++) {
        assert.ok(b[k].lo[i] >= a[k].lo[i] - 1e-9 && b[k].hi[i] <= a[k].hi[i] + 1e-9);
      }
    }
    const w = (x: typeof a) => x[4].hi.reduce((s, v, i) => s + v - x[4].lo[i], 0);
    ratio += w(b) / w(a) / 20;
  }
  assert.ok(ratio < 0.7, `symbolic/interval width ratio ${ratio}`);
});

test('outputLinearLower is a sound lower bound of c.y and beats the interval difference', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const net = randomNetwork(seed, [3, 10, 10, 3]);
    const box = randomBox(seed + 9, 3, 0.5);
    const b = symbolicBounds(net, box);
    const c = Float64Array.from([1, -1, 0]);
    const lower = outputLinearLower(net, box, b, c);
    const xs = samplePoints(box, 2000, mulberry32(seed));
    const y = forward(net, xs, 2000);
    for (let s = 0; s < 2000; s++) assert.ok(y[s * 3] - y[s * 3 + 1] >= lower - 1e-12);
    assert.ok(lower >= b[2].lo[0] - b[2].hi[1] - 1e-9);
  }
});

test('optimised slopes (alphaLower) stay below every point of a dense grid and are never looser than CROWN (property)', () => {
  let tighter = 0;
  let runs = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 4 }), (seed, depth) => {
      runs++;
      const rng = mulberry32(seed);
      const sizes = [2];
      for (let i = 0; i < depth; i++) sizes.push(3 + Math.floor(rng() * 8));
      sizes.push(3);
      const net = randomNetwork(seed, sizes, 0.25);
      const box = randomBox(seed + 3, 2, 0.5 + rng() * 3);
      const b = crownBounds(net, box);
      const last = net.layers.length - 1;
      // an output objective, and one on an intermediate layer when there is one
      const cases: Array<{ k: number; c: Float64Array }> = [{ k: last, c: Float64Array.from([1, -1, rng() - 0.5]) }];
      if (last > 1) cases.push({ k: last - 1, c: Float64Array.from({ length: sizes[last - 1 + 1] }, () => rng() * 2 - 1) });
      const { count, tr } = boxGrid(net, box, 60);
      for (const { k, c } of cases) {
        const crown = backwardBound(net, box, b, k, c, 0.1, 'lower').lo;
        const alpha = alphaLower(net, box, b, k, c, 0.1, { iterations: 10 });
        if (alpha < crown - 1e-9 * (1 + Math.abs(crown))) return false;
        if (alpha > crown + 1e-9 * (1 + Math.abs(crown))) tighter++;
        const m = net.layers[k].outSize;
        for (let s = 0; s < count; s++) {
          let v = 0.1;
          for (let i = 0; i < m; i++) v += c[i] * tr.pre[k][s * m + i];
          if (v < alpha) return false;
        }
      }
      return true;
    }),
    { numRuns: 150 },
  );
  // the optimisation must actually move the slopes somewhere (a gradient of the wrong sign never tightens)
  assert.ok(tighter > runs / 4, `tighter than CROWN on ${tighter} of ${runs} networks`);
});

test('a mixture of objectives (alphaLowerOfMax) bounds their maximum from below on a dense grid, never looser than CROWN on the plain mean (property)', () => {
  let beatsParts = 0;
  let runs = 0;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 3 }), (seed, depth) => {
      runs++;
      const rng = mulberry32(seed);
      const sizes = [2];
      for (let i = 0; i < depth; i++) sizes.push(3 + Math.floor(rng() * 8));
      sizes.push(4);
      const net = randomNetwork(seed, sizes, 0.25);
      const box = randomBox(seed + 3, 2, 0.5 + rng() * 3);
      const b = crownBounds(net, box);
      const last = net.layers.length - 1;
      const cs = [0, 1, 2].map(() => Float64Array.from({ length: 4 }, () => rng() * 2 - 1));
      const ds = [0, 1, 2].map(() => rng() - 0.5);
      const { bound, weights } = alphaLowerOfMax(net, box, b, last, cs, ds, { iterations: 12 });
      if (Math.abs(weights.reduce((a, v) => a + v, 0) - 1) > 1e-12 || weights.some((v) => !(v >= 0))) return false;
      const mean = Float64Array.from({ length: 4 }, (_, i) => cs.reduce((a, c) => a + c[i], 0) / 3);
      const crownMean = backwardBound(net, box, b, last, mean, ds.reduce((a, d) => a + d, 0) / 3, 'lower').lo;
      if (bound < crownMean - 1e-9 * (1 + Math.abs(crownMean))) return false;
      const parts = Math.max(...cs.map((c, j) => alphaLower(net, box, b, last, c, ds[j], { iterations: 12 })));
      if (bound > parts + 1e-9 * (1 + Math.abs(parts))) beatsParts++;
      const { count, tr } = boxGrid(net, box, 60);
      for (let s = 0; s < count; s++) {
        let mx = -Infinity;
        for (let j = 0; j < 3; j++) {
          let v = ds[j];
          for (let i = 0; i < 4; i++) v += cs[j][i] * tr.pre[last][s * 4 + i];
          mx = Math.max(mx, v);
        }
        if (mx < bound) return false;
      }
      return true;
    }),
    { numRuns: 150 },
  );
  assert.ok(beatsParts > 0, `tighter than its best part on ${beatsParts} of ${runs} networks`);
});

test('the mixture finds weights no single objective and no plain mean gives: max(2x, -x) + 0.3 > 0 on [-1, 1]', () => {
  // h1 = relu(x), h2 = relu(-x) (both unstable); y1 = 2 h1 - 2 h2 = 2x, y2 = h2 - h1 = -x
  const net = {
    inputSize: 1,
    layers: [
      makeLayer(1, 2, Float64Array.from([1, -1]), new Float64Array(2), true),
      makeLayer(2, 2, Float64Array.from([2, -2, -1, 1]), new Float64Array(2), false),
    ],
  };
  const box = { lo: Float64Array.from([-1]), hi: Float64Array.from([1]) };
  const b = crownBounds(net, box);
  const cs = [Float64Array.from([1, 0]), Float64Array.from([0, 1])];
  for (const c of cs) assert.ok(alphaLower(net, box, b, 1, c, 0.3, { iterations: 20 }) < 0);
  assert.ok(backwardBound(net, box, b, 1, Float64Array.from([0.5, 0.5]), 0.3, 'lower').lo < 0);
  // only weights near (1/3, 2/3) cancel the relaxed ReLUs: the weights must move there
  const { bound, weights } = alphaLowerOfMax(net, box, b, 1, cs, [0.3, 0.3], { iterations: 20 });
  assert.ok(bound > 0, `bound ${bound}, weights ${Array.from(weights)}`);
  assert.ok(bound <= 0.3 + 1e-9);
  assert.ok(Math.abs(weights[0] - 1 / 3) < 0.1, `weights ${Array.from(weights)}`);
});
