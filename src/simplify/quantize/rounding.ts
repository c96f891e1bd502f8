/**
 * A sound bound on how far a float32 evaluation of a chain (onnxruntime's: the input rounded to float32, each Gemm's
 * dot product and bias summed in float32 in any order, with or without fused multiply-adds, ReLU and Max exact)
 * can be from the exact value of the same numbers, over a domain. The proof (prove.ts) is about exact arithmetic on
 * the stored numbers, as prune's final check is; this bound is what the float32 evaluation of the file adds.
 *
 * Per layer, with |x~_i| <= a_i + e_i (a_i from the exact network's bounds, e_i the error so far):
 *   |z~_j - z_j| <= sum_i |w_ji| e_i + gamma_{n+1} (sum_i |w_ji| (a_i + e_i) + |b_j|),  gamma_m = m u / (1 - m u)
 * (Higham, Accuracy and Stability of Numerical Algorithms, 3.1: a dot product of m terms in any order), u = 2^-24.
 * A ReLU neuron whose exact and float32 pre-activations are both <= 0 (upper bound + error <= 0) carries no error.
 * Quantised activations (activations.ts): each stored output adds its own bound (actError of its magnitude) to the
 * error the next layer takes in, and a uint8 one the error of onnxruntime's fused integer kernel (fusedBiasError).
 */
import type { Box } from '../../model/box.ts';
import type { Network } from '../../model/network.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import { coverDomain } from '../../verify/search/cover.ts';
import { propagatedRounding } from './rounding-diff.ts';
import { widenHi, widenLo } from '../../bounds/round.ts';
import { actError, actOwn, actTotal, fusedBiasError, quantizesActivations, type ActScheme } from './activations.ts';
import { preDeviation, unknownFactor, type LayerErrors } from './rounding-back.ts';
import { propagatedActRounding } from './rounding-act.ts';

const U32 = 2 ** -24;
const gamma = (m: number): number => (m * U32) / (1 - m * U32);

/**
 * The largest error over the outputs on one box, given the exact network's pre-activation bounds there, and per
 * layer the rounding made in that layer alone (with the input's rounding in layer 1's): |z~ - z| <= fresh + carried;
 * and per layer the bound of each stored activation's own error (`act`; zero where the output stays float32).
 */
export function roundingOnBox(net: Network, box: Box, bounds: NetworkBounds, act?: ActScheme): { out: number; fresh: Float64Array[]; acts: Float64Array[] } {
  const fresh: Float64Array[] = [];
  const acts: Float64Array[] = [];
  const back: LayerErrors[] = [];
  const n0 = net.inputSize;
  // the input as fed: rounded to float32 (relative u)
  let a = new Float64Array(n0);
  let e = new Float64Array(n0);
  for (let i = 0; i < n0; i++) {
    a[i] = Math.max(Math.abs(box.lo[i]), Math.abs(box.hi[i]));
    e[i] = U32 * a[i];
  }
  for (const [k, L] of net.layers.entries()) {
    const { lo, hi } = bounds[k];
    // an input stored uint8: onnxruntime may fuse the layer into an integer kernel (QGemm), see fusedBiasError
    const fusedIn = act?.[k - 1]?.kind === 'uint8';
    const g = gamma(fusedIn ? Math.max(L.inSize + 1, 6) : L.inSize + 1);
    const na = new Float64Array(L.outSize);
    const ne = new Float64Array(L.outSize);
    const own = new Float64Array(L.outSize);
    const stored = act?.[k];
    const q = new Float64Array(L.outSize);
    const factor = new Uint8Array(L.outSize);
    const ownAct = new Float64Array(L.outSize);
    const lam = new Float64Array(L.outSize);
    const res = new Float64Array(L.outSize);
    for (let j = 0; j < L.outSize; j++) {
      let carried = 0;
      let mag = Math.abs(L.bias[j]);
      const row = j * L.inSize;
      for (let i = 0; i < L.inSize; i++) {
        const w = Math.abs(L.weights[row + i]);
        carried += w * e[i];
        mag += w * (a[i] + e[i]);
      }
      // widened for this float64 computation's own rounding
      const fused = fusedIn ? fusedBiasError(act?.[k - 1], L.inSize, L.bias[j]) : 0;
      own[j] = (k === 0 ? carried + g * mag : g * mag + fused) * (1 + 1e-9) + 1e-300;
      // the interval bound, or the backward one (signs of the weights kept) where it is smaller
      let err = (carried + g * mag + fused) * (1 + 1e-9) + 1e-300;
      if (k > 0 && err > own[j]) err = Math.min(err, preDeviation(net, back, k, j, own[j]));
      const dead = L.relu[j] === 1 && hi[j] + err <= 0;
      na[j] = L.relu[j] ? Math.max(0, hi[j]) : Math.max(Math.abs(lo[j]), Math.abs(hi[j]));
      // a stored activation: its own error as a perturbation (its magnitude as computed is at most the exact one
      // plus the error so far), for rounding-act.ts; the error carried on, with clipping as a contraction
      q[j] = dead || !stored ? 0 : actError(stored, na[j] + err);
      ne[j] = dead ? 0 : stored ? actTotal(stored, na[j], err) : err;
      // for the backward bound: whether the deviation passes (active on both sides, not clipped), or is scaled by [0, 1]
      const clips = stored?.kind === 'uint8' && na[j] + err > 255 * stored.scale;
      factor[j] = dead ? 0 : L.relu[j] === 0 || (lo[j] - err >= 0 && !clips) ? 1 : 2;
      if (factor[j] === 2) ({ lam: lam[j], res: res[j] } = unknownFactor(lo[j], hi[j], err, clips));
      ownAct[j] = dead || !stored ? 0 : L.relu[j] ? actOwn(stored, na[j], err) : q[j];
    }
    fresh.push(own);
    acts.push(q);
    back.push({ factor, fresh: own, own: ownAct, lam, res });
    a = na;
    e = ne;
  }
  return { out: e.reduce((m, v) => Math.max(m, v), 0), fresh, acts };
}

/**
 * The float32 evaluation error of g on one box of the difference search, from f's bounds there and those of the
 * difference D = z_g - z_f (an aligned pair with no reference scale or shift, as quantisation makes): g's
 * pre-activations lie in [f.lo + D.lo, f.hi + D.hi], widened outward for the two additions. On the small boxes a
 * search ends with the activations are far smaller than on the domain, and more neurons are dead.
 */
export function roundingFromDiff(g: Network, box: Box, fb: NetworkBounds, d: { lo: Float64Array[]; hi: Float64Array[] }, act?: ActScheme): number {
  const gb: NetworkBounds = fb.map((b, k) => {
    const lo = new Float64Array(b.lo.length);
    const hi = new Float64Array(b.lo.length);
    for (let j = 0; j < lo.length; j++) {
      lo[j] = widenLo(b.lo[j] + d.lo[k][j], Math.abs(b.lo[j]) + Math.abs(d.lo[k][j]));
      hi[j] = widenHi(b.hi[j] + d.hi[k][j], Math.abs(b.hi[j]) + Math.abs(d.hi[k][j]));
    }
    return { lo, hi };
  });
  return roundingOnBox(g, box, gb, act).out;
}

/** The bound over every box of the domain (boundsFn: sound pre-activation bounds of `net` on a box; act: how its hidden outputs are stored). */
export function float32Rounding(net: Network, domain: Box[], boundsFn: (net: Network, box: Box) => NetworkBounds, act?: ActScheme): number {
  let r = 0;
  // very many boxes: their cover's hulls (each holds its boxes, so the bound holds on them too)
  for (const box of coverDomain(domain).boxes) {
    const b = roundingOnBox(net, box, boundsFn(net, box), act);
    const carried = quantizesActivations(act) ? propagatedActRounding(net, box, b.fresh, b.acts, boundsFn) : propagatedRounding(net, box, b.fresh, boundsFn);
    r = Math.max(r, Math.min(b.out, carried));
  }
  return r;
}
