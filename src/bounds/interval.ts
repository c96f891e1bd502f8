/** Interval bound propagation: the cheapest sound bounds, and a safety net intersected with the symbolic ones. */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NetworkBounds } from './types.ts';
import { termsVanish, widenHi, widenLo } from './round.ts';

/** Interval bounds of every neuron over a box (the loosest, cheapest), widened outward. */
export function intervalBounds(net: Network, box: Box): NetworkBounds {
  let lo: Float64Array = box.lo;
  let hi: Float64Array = box.hi;
  const out: NetworkBounds = [];
  for (const L of net.layers) {
    const n = L.inSize;
    const zl = new Float64Array(L.outSize);
    const zh = new Float64Array(L.outSize);
    const al = new Float64Array(L.outSize);
    const ah = new Float64Array(L.outSize);
    for (let i = 0; i < L.outSize; i++) {
      let a = L.bias[i];
      let b = L.bias[i];
      let mag = Math.abs(L.bias[i]);
      const row = i * n;
      for (let j = 0; j < n; j++) {
        const w = L.weights[row + j];
        if (w >= 0) {
          a += w * lo[j];
          b += w * hi[j];
        } else {
          a += w * hi[j];
          b += w * lo[j];
        }
        mag += Math.abs(w) * Math.max(Math.abs(lo[j]), Math.abs(hi[j]));
      }
      // every term exactly 0: the sum is exactly 0, no rounding to widen for
      const exact = mag === 0 && termsVanish(L.bias[i], L.weights, row, n, lo, hi);
      zl[i] = exact ? 0 : widenLo(a, mag);
      zh[i] = exact ? 0 : widenHi(b, mag);
      al[i] = L.relu[i] ? Math.max(zl[i], 0) : zl[i];
      ah[i] = L.relu[i] ? Math.max(zh[i], 0) : zh[i];
    }
    out.push({ lo: zl, hi: zh });
    lo = al;
    hi = ah;
  }
  return out;
}
