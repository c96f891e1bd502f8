/**
 * The tight difference engine's parts (issue 30): the smear split's gradient bounds contain the true gradient,
 * every split rule (smear, widest, trial) with f's bounds reused from the parent box proves only bounds that
 * contain every sampled |f - g| (rounded-weight pairs, as quantisation makes), and the float32 rounding bound of a
 * search box holds for a float32 evaluation in any order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cloneNetwork, forward, forwardTrace, type Network } from '../src/model/network.ts';
import { samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputGradient } from '../src/verify/equiv/diff-smear.ts';
import { checkLinf } from '../src/verify/equiv/equiv.ts';
import { alignedPair } from '../src/verify/equiv/diff/diff-pair.ts';
import { differenceBounds, planDifference } from '../src/verify/equiv/diff/diff-bounds.ts';
import { roundingFromDiff } from '../src/simplify/quantize/rounding.ts';
import { randomBox, randomNetwork } from './helpers/nets.ts';

/** The exact gradient of output `out` at x: the product of the weights through x's active neurons. */
function gradientAt(net: Network, x: Float64Array, out: number): Float64Array {
  const t = forwardTrace(net, x, 1);
  const last = net.layers.length - 1;
  let g = new Float64Array(net.layers[last].outSize);
  g[out] = 1;
  for (let k = last; k >= 0; k--) {
    const L = net.layers[k];
    if (k < last) for (let j = 0; j < L.outSize; j++) if (L.relu[j] && !(t.pre[k][j] > 0)) g[j] = 0;
    const n = new Float64Array(L.inSize);
    for (let j = 0; j < L.outSize; j++) for (let i = 0; i < L.inSize; i++) n[i] += g[j] * L.weights[j * L.inSize + i];
    g = n;
  }
  return g;
}

/** f with its weights and biases rounded to a grid of `step` (relative), as a quantised copy would be. */
function rounded(f: Network, step: number): Network {
  const g = cloneNetwork(f);
  for (const L of g.layers) {
    L.weights.forEach((w, i) => (L.weights[i] = Math.round(w / step) * step));
    L.bias.forEach((b, i) => (L.bias[i] = Math.round(b / step) * step));
  }
  return g;
}

test('the smear split gradient bounds contain the gradient at every sampled point (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const rng = mulberry32(seed);
      const f = randomNetwork(seed, [2 + Math.floor(rng() * 4), 4 + Math.floor(rng() * 5), 4 + Math.floor(rng() * 5), 3]);
      const box = randomBox(seed + 1, f.inputSize);
      const fb = crownBounds(f, box);
      const out = Math.floor(rng() * 3);
      const { gl, gu } = outputGradient(f, fb, out);
      const xs = samplePoints(box, 50, mulberry32(seed + 2));
      for (let s = 0; s < 50; s++) {
        const g = gradientAt(f, xs.slice(s * f.inputSize, (s + 1) * f.inputSize), out);
        for (let i = 0; i < g.length; i++) if (!(g[i] >= gl[i] - 1e-9 && g[i] <= gu[i] + 1e-9)) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});

test('every split rule proves only bounds above every sampled |f - g| of a rounded copy (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom('smear', 'widest', 'trial') as fc.Arbitrary<'smear' | 'widest' | 'trial'>, (seed, split) => {
      const rng = mulberry32(seed);
      const f = randomNetwork(seed, [2 + Math.floor(rng() * 3), 6, 6, 6, 2]);
      const g = rounded(f, rng() < 0.5 ? 1e-3 : 3e-2);
      const box = randomBox(seed + 1, f.inputSize);
      const r = checkLinf(alignedPair(f, g), [box], 0, { boundsFn: crownBounds, timeoutMs: 60_000, maxBoxes: 60, samples: 64, split });
      const xs = samplePoints(box, 2000, mulberry32(seed + 3));
      const yf = forward(f, xs, 2000);
      const yg = forward(g, xs, 2000);
      let worst = 0;
      for (let i = 0; i < yf.length; i++) worst = Math.max(worst, Math.abs(yf[i] - yg[i]));
      return r.verdict.status === 'proved' && worst <= r.provedBound;
    }),
    { numRuns: 150 },
  );
});

test('on a rounded copy the smear split with the hidden layers tightened proves a bound no worse than widest splitting at the same work', () => {
  let better = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const f = randomNetwork(seed, [3, 12, 12, 12, 3]);
    const g = rounded(f, 1e-3);
    const box = randomBox(seed + 5, 3);
    const run = (split: 'smear' | 'widest') => checkLinf(alignedPair(f, g), [box], 0, { boundsFn: crownBounds, timeoutMs: 60_000, maxBoxes: 200, samples: 64, split }).provedBound;
    const a = run('smear');
    const b = run('widest');
    assert.ok(Number.isFinite(a) && Number.isFinite(b));
    if (a <= b * 1.000001) better++;
  }
  assert.ok(better >= 8, `smear no worse than widest on ${better} of 12`);
});

/** g evaluated in float32 as a runtime might: input rounded, every product and partial sum rounded, a random order. */
function float32Forward(net: Network, x: Float64Array, rng: () => number): Float64Array {
  let a = Float64Array.from(x, Math.fround);
  for (const L of net.layers) {
    const z = new Float64Array(L.outSize);
    for (let j = 0; j < L.outSize; j++) {
      const order = [...Array(L.inSize).keys()].sort(() => rng() - 0.5);
      let s = Math.fround(L.bias[j]);
      for (const i of order) s = Math.fround(s + Math.fround(L.weights[j * L.inSize + i] * a[i]));
      z[j] = L.relu[j] ? Math.max(s, 0) : s;
    }
    a = z;
  }
  return a;
}

test('the float32 rounding bound of a search box, from f bounds and the difference, holds at sampled points (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const rng = mulberry32(seed);
      const f = randomNetwork(seed, [2 + Math.floor(rng() * 3), 8, 8, 3]);
      const g = rounded(f, 1e-3);
      const box = randomBox(seed + 1, f.inputSize, rng() < 0.5 ? 0.1 : 2);
      const fb = crownBounds(f, box);
      const d = differenceBounds(planDifference(alignedPair(f, g)), box, fb, { symbolic: true, backward: true, hidden: true });
      const R = roundingFromDiff(g, box, fb, d);
      const xs = samplePoints(box, 40, mulberry32(seed + 2));
      const n = f.inputSize;
      for (let s = 0; s < 40; s++) {
        const x = xs.slice(s * n, (s + 1) * n);
        const exact = forward(g, x, 1);
        const y = float32Forward(g, x, rng);
        for (let i = 0; i < y.length; i++) if (!(Math.abs(y[i] - exact[i]) <= R)) return false;
      }
      return true;
    }),
    { numRuns: 200 },
  );
});
