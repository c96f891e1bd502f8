/**
 * A backward bound of float32 evaluation with stored activations on one box, which keeps the signs of the weights
 * (the interval forward bound of rounding.ts multiplies |W|s, which for deep networks compounds to orders of
 * magnitude more than any real error). The deviation of each computed value from the exact one is linear in the
 * sources, each layer's own rounding delta_k (before the activation) and each stored value's own error eta_k
 * (after it), through the weights and, at each neuron, a factor c in [0, 1]: 1 where both the exact and the
 * computed value are on the ReLU's active side and not clipped, 0 where both are <= 0, unknown in [0, 1] elsewhere
 * (ReLU and clipping are monotone and 1-Lipschitz). Per output, the coefficient of every source is bounded by
 * interval arithmetic backward through the layers, and |coefficient| x the source's bound summed. An unknown
 * factor's product with d is written lam d + r (unknownFactor): the first part keeps d's signs (its sources'
 * cancellations further back), the second is a source of its own.
 */
import type { Network } from '../../model/network.ts';

/** What the forward pass (roundingOnBox) knows of one layer. */
export interface LayerErrors {
  /** per neuron: 0 dead, 1 passes its deviation, 2 a factor in [0, 1] */
  factor: Uint8Array;
  /** per neuron: its own rounding before the activation */
  fresh: Float64Array;
  /** per neuron: the stored value's own error (rounding and clipping, not the deviation carried in) */
  own: Float64Array;
  /** per neuron with an unknown factor: lam and the bound of r (unknownFactor) */
  lam: Float64Array;
  res: Float64Array;
}

/**
 * relu(z + d) - relu(z) = lam d + r for z in [lo, hi], |d| <= D, with |r| <= res: exactly active (lo >= 0, lo < D):
 * lam = (D + lo) / 2D, res = (D - lo) / 2 (where z + d < 0, d < -z: r = -z - lam d lies in ((lam - 1) D, lam D - lo]);
 * exactly inactive (hi <= 0): relu(z + d) in [0, D + hi], lam 0, unless D / 2 is less; else (and where clipping may
 * also act, another factor in [0, 1]): lam 1/2, res D / 2.
 */
export function unknownFactor(lo: number, hi: number, D: number, clips: boolean): { lam: number; res: number } {
  const half = { lam: 0.5, res: 0.5 * D };
  if (clips || !(D > 0)) return half;
  if (lo >= 0 && lo < D) return { lam: (D + lo) / (2 * D), res: ((D - lo) / 2) * (1 + 1e-12) };
  if (hi <= 0 && D + hi < 0.5 * D) return { lam: 0, res: Math.max(0, D + hi) * (1 + 1e-12) };
  return half;
}

/**
 * The bound on |sum_j c_j dev_j| for the deviations dev of layer m's stored outputs, given c within [lo, hi]
 * (consumed): the sources of layers m, m - 1, .., 1 each times the bound of its coefficient.
 */
export function backwardFrom(net: Network, layers: readonly LayerErrors[], m: number, lo: Float64Array, hi: Float64Array): number {
  let total = 0;
  for (let k = m; k >= 0; k--) {
    const L = net.layers[k];
    const e = layers[k];
    for (let j = 0; j < L.outSize; j++) {
      total += Math.max(Math.abs(lo[j]), Math.abs(hi[j])) * e.own[j];
      // through the activation: the pre-activation deviation's coefficient
      if (e.factor[j] === 0) lo[j] = hi[j] = 0;
      else if (e.factor[j] === 2) {
        total += Math.max(Math.abs(lo[j]), Math.abs(hi[j])) * e.res[j];
        lo[j] *= e.lam[j];
        hi[j] *= e.lam[j];
      }
      total += Math.max(Math.abs(lo[j]), Math.abs(hi[j])) * e.fresh[j];
    }
    if (k === 0) break; // the input's rounding is in layer 1's fresh
    const nlo = new Float64Array(L.inSize);
    const nhi = new Float64Array(L.inSize);
    const size = new Float64Array(L.inSize); // sum |w| |coefficient|: how far float64 rounding may move the sums
    for (let j = 0; j < L.outSize; j++) {
      if (lo[j] === 0 && hi[j] === 0) continue;
      const row = j * L.inSize;
      const c = Math.max(Math.abs(lo[j]), Math.abs(hi[j]));
      for (let i = 0; i < L.inSize; i++) {
        const w = L.weights[row + i];
        size[i] += Math.abs(w) * c;
        if (w >= 0) {
          nlo[i] += w * lo[j];
          nhi[i] += w * hi[j];
        } else {
          nlo[i] += w * hi[j];
          nhi[i] += w * lo[j];
        }
      }
    }
    const slack = (L.outSize + 2) * 2 ** -52;
    for (let i = 0; i < L.inSize; i++) {
      nlo[i] -= slack * size[i];
      nhi[i] += slack * size[i];
    }
    lo = nlo;
    hi = nhi;
  }
  // widened for this float64 computation's own rounding
  return total * (1 + 1e-9) + 1e-300;
}

/** The bound on the pre-activation deviation of neuron j of layer k (>= 1): its own rounding plus row j of W_k's. */
export function preDeviation(net: Network, layers: readonly LayerErrors[], k: number, j: number, fresh: number): number {
  const L = net.layers[k];
  const row = L.weights.slice(j * L.inSize, (j + 1) * L.inSize);
  return fresh + backwardFrom(net, layers, k - 1, Float64Array.from(row), row);
}
