/**
 * The difference engine's per-box shortcuts (issue 30, session 23): the backward bounds on the live parts of a box
 * only (diff-live.ts), on deep random pairs and small boxes where many neurons are dead, still contain every sampled
 * difference at every layer, for rounded copies (dense E) and copies with neurons removed (sparse E, g's dead rows);
 * and the search that splits boxes far above epsilon without bounding them (diff-bab.ts SKIP_FACTOR) proves only
 * epsilons above every sampled difference, with a bound between the two.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { cloneNetwork, forward, forwardTrace, type Network } from '../src/model/network.ts';
import { samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { alignedPair } from '../src/verify/equiv/diff/diff-pair.ts';
import { differenceBounds, planDifference } from '../src/verify/equiv/diff/diff-bounds.ts';
import { checkLinf } from '../src/verify/equiv/equiv.ts';
import { randomBox, randomNetwork } from './helpers/nets.ts';

/** A copy of f with its weights rounded to a relative grid (dense E), or with some hidden neurons removed (sparse E). */
function copyOf(f: Network, rng: () => number): Network {
  const g = cloneNetwork(f);
  if (rng() < 0.5) {
    const step = rng() < 0.5 ? 1e-3 : 3e-2;
    for (const L of g.layers) {
      L.weights.forEach((w, i) => (L.weights[i] = Math.round(w / step) * step));
      L.bias.forEach((b, i) => (L.bias[i] = Math.round(b / step) * step));
    }
  } else {
    for (let k = 0; k + 1 < g.layers.length; k++) {
      const next = g.layers[k + 1];
      for (let j = 0; j < g.layers[k].outSize; j++) if (rng() < 0.2) for (let i = 0; i < next.outSize; i++) next.weights[i * next.inSize + j] = 0;
    }
  }
  return g;
}

test('backward difference bounds on the live parts of small boxes contain every sampled g - f at every layer (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const rng = mulberry32(seed);
      const w = 3 + Math.floor(rng() * 6);
      const f = randomNetwork(seed, [2 + Math.floor(rng() * 4), w, w, w, w, 2]);
      const g = copyOf(f, rng);
      const box = randomBox(seed + 1, f.inputSize, rng() < 0.5 ? 0.05 : 0.5);
      const d = differenceBounds(planDifference(alignedPair(f, g)), box, crownBounds(f, box), { symbolic: true, backward: true, hidden: true });
      const n = 200;
      const xs = samplePoints(box, n, mulberry32(seed + 2));
      const tf = forwardTrace(f, xs, n);
      const tg = forwardTrace(g, xs, n);
      for (let k = 0; k < f.layers.length; k++) {
        const m = f.layers[k].outSize;
        for (let i = 0; i < n * m; i++) {
          const D = tg.pre[k][i] - tf.pre[k][i];
          if (!(D >= d.lo[k][i % m] - 1e-12 && D <= d.hi[k][i % m] + 1e-12)) return false;
        }
      }
      return true;
    }),
    { numRuns: 400 },
  );
});

test('proofs with the skipped levels hold at every sampled point (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const rng = mulberry32(seed);
      const f = randomNetwork(seed, [2 + Math.floor(rng() * 3), 8, 8, 8, 2]);
      const g = copyOf(f, rng);
      const box = randomBox(seed + 1, f.inputSize);
      const n = 2000;
      const xs = samplePoints(box, n, mulberry32(seed + 3));
      const yf = forward(f, xs, n);
      const yg = forward(g, xs, n);
      let worst = 0;
      for (let i = 0; i < yf.length; i++) worst = Math.max(worst, Math.abs(yf[i] - yg[i]));
      const eps = Math.max(worst, 1e-9) * (1 + 4 * rng());
      const r = checkLinf(alignedPair(f, g), [box], eps, { boundsFn: crownBounds, timeoutMs: 60_000, maxBoxes: 400, samples: 64 });
      return r.verdict.status !== 'proved' || (worst <= eps && worst <= r.provedBound && r.provedBound <= eps);
    }),
    { numRuns: 150 },
  );
});
