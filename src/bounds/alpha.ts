/**
 * Optimised lower relaxation slopes for ONE objective (alpha-CROWN, restricted to the objective's own
 * back-substitution; the layers' pre-activation bounds are taken as given). For an unstable ReLU the lower
 * relaxation a >= alpha z is sound for every alpha in [0, 1]; CROWN fixes alpha at 0 or 1, but the best choice
 * depends on the objective. The bound is a piecewise-linear function of the slopes with a cheap gradient: one
 * backward pass gives the bound and the coefficient nu_j that meets each slope; one forward pass of the relaxed
 * network from the box corner that minimises the final linear function gives g_j = d bound / d (coefficient of
 * z_j); so d bound / d alpha_j = nu_j g_j. A few projected-gradient steps (Adam) cost a few back-substitutions of
 * one row, next to the hundreds that bound the layers. Every iterate's bound is sound (any slopes in [0, 1] are);
 * the best is returned, widened outward like the others. Works in the coordinates of the live neurons (as
 * backward.ts does).
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NetworkBounds } from './types.ts';
import { widenLo } from './round.ts';
import { liveLayers, liveOf, liveWeights, objectiveBelow } from './backward.ts';

export interface AlphaOptions {
  /** gradient steps (default 8) */
  iterations?: number;
  /** Adam step size on the slopes (default 0.5) */
  step?: number;
  /** stop as soon as the bound exceeds this (default +Infinity: all iterations) */
  target?: number;
}

/**
 * A sound lower bound of c . z_k + d over the box, z_k = layer k's pre-activation, with slopes optimised for it.
 * The first iterate uses CROWN's slopes, so the result is never worse than CROWN's (up to rounding).
 * (Measured on ACAS Xu sub-boxes: 8 steps close about a fifth of the gap between CROWN's bound and the sampled
 * minimum; a hundred steps hardly more.)
 */
export function alphaLower(net: Network, box: Box, bounds: NetworkBounds, k: number, c: Float64Array, d = 0, opts: AlphaOptions = {}): number {
  return optimise(net, box, bounds, k, [c], [d], opts).bound;
}

/**
 * A sound lower bound of max_j (c_j . z_k + d_j) over the box: of sum_j w_j (c_j . z_k + d_j) for weights w on the
 * simplex, optimised together with the slopes. When it is > 0, some c_j . z_k + d_j is > 0 at every point of the box
 * though no single one may be provably positive (one relaxation of the mixture is tighter than the relaxations of
 * its parts). The bound is linear in the weights for fixed slopes, with gradient (c_j . z* + d_j)_j at the relaxed
 * network's minimising point z* (the forward pass the slopes' gradient already makes): exponentiated-gradient
 * steps move weight to the objectives that point says are larger. Every iterate's bound is sound (any weights >= 0
 * are); the rounding of forming the mixture in floating point is subtracted from it. Returns the weights of the
 * best bound too.
 */
export function alphaLowerOfMax(
  net: Network,
  box: Box,
  bounds: NetworkBounds,
  k: number,
  cs: Float64Array[],
  ds: number[],
  opts: AlphaOptions = {},
): { bound: number; weights: Float64Array } {
  return optimise(net, box, bounds, k, cs, ds, opts);
}

/** Exponentiated-gradient step on the mixture's weights, relative to the spread of the objectives' values. */
const WEIGHT_STEP = 1;

/** Relative rounding of forming a mixture of a few objectives in floating point, generously (n x 2^-53 for n). */
const MIX_ROUNDING = 1e-14;

function optimise(net: Network, box: Box, bounds: NetworkBounds, k: number, cs: Float64Array[], ds: number[], opts: AlphaOptions): { bound: number; weights: Float64Array } {
  const iters = opts.iterations ?? 8;
  const lr = opts.step ?? 0.5;
  const target = opts.target ?? Infinity;
  const J = cs.length;
  const cache = liveLayers(bounds);
  const rows: Int32Array[] = [];
  const W: Float64Array[] = [];
  // per live neuron of each layer below k: slope, the coefficient met there, Adam's moments, the relaxed values
  const alpha: Float64Array[] = [];
  const nu: Float64Array[] = [];
  const m1: Float64Array[] = [];
  const m2: Float64Array[] = [];
  const g: Float64Array[] = [];
  let unstable = 0;
  for (let l = 0; l < k; l++) {
    rows.push(liveOf(net, bounds, cache, l));
    W.push(liveWeights(net, bounds, cache, l));
  }
  for (let l = 0; l < k; l++) {
    const L = net.layers[l];
    const r = rows[l];
    const a = new Float64Array(r.length);
    for (let t = 0; t < r.length; t++) {
      const j = r[t];
      const lo = bounds[l].lo[j];
      const hi = bounds[l].hi[j];
      if (L.relu[j] && lo < 0 && hi > 0) {
        a[t] = hi > -lo ? 1 : 0;
        unstable++;
      }
    }
    alpha.push(a);
    nu.push(new Float64Array(r.length));
    m1.push(new Float64Array(r.length));
    m2.push(new Float64Array(r.length));
    g.push(new Float64Array(r.length));
  }
  // the objective over layer k-1's live activations; with several, the mixture's, formed again when the weights move
  const Lk = net.layers[k];
  const colsK = k > 0 ? rows[k - 1] : liveOf(net, bounds, cache, -1);
  const nk = Lk.outSize;
  const w = new Float64Array(J).fill(1 / J);
  const c = new Float64Array(nk);
  const mixture = (): { top: Float64Array; cst: number; mag: number; err: number } => {
    if (J === 1) return { ...objectiveBelow(Lk, cs[0], ds[0], colsK), err: 0 };
    c.fill(0);
    let d = 0;
    let err = 0;
    for (let j = 0; j < J; j++) {
      const cj = cs[j];
      for (let i = 0; i < nk; i++) c[i] += w[j] * cj[i];
      d += w[j] * ds[j];
      err += MIX_ROUNDING * Math.abs(w[j] * ds[j]);
      for (let i = 0; i < nk; i++) err += MIX_ROUNDING * Math.abs(w[j] * cj[i]) * Math.max(Math.abs(bounds[k].lo[i]), Math.abs(bounds[k].hi[i]));
    }
    return { ...objectiveBelow(Lk, c, d, colsK), err };
  };
  const n0 = net.inputSize;
  const xStar = new Float64Array(n0);
  const zStar = new Float64Array(nk);
  let best = -Infinity;
  let bestW = w.slice();
  // nothing to optimise without unstable neurons or weights: one pass; at least one in any case
  const steps = unstable > 0 || J > 1 ? Math.max(1, iters) : 1;
  for (let it = 0; it < steps; it++) {
    const { top, cst, mag, err } = mixture();
    const v = backward(net, box, bounds, k, rows, W, top, cst, mag, alpha, nu, xStar) - err;
    if (v > best) {
      best = v;
      bestW = w.slice();
    }
    if (best > target || it === steps - 1) break;
    // forward through the relaxed network from the minimising corner; update the slopes on the way
    const t1 = it + 1;
    const c1 = 1 - 0.9 ** t1;
    const c2 = 1 - 0.999 ** t1;
    for (let l = 0; l < k; l++) {
      const L = net.layers[l];
      const r = rows[l];
      const nin = l > 0 ? rows[l - 1].length : n0;
      const prev = l > 0 ? g[l - 1] : xStar;
      const Wl = W[l];
      const gl = g[l];
      const a = alpha[l];
      const nl = nu[l];
      const lb = bounds[l].lo;
      const ub = bounds[l].hi;
      for (let t = 0; t < r.length; t++) {
        const j = r[t];
        let s = L.bias[j];
        const ro = t * nin;
        for (let q = 0; q < nin; q++) s += Wl[ro + q] * prev[q];
        // s is the relaxed pre-activation; gl[t] becomes the relaxed activation that feeds the next layer
        if (!L.relu[j] || lb[j] >= 0) gl[t] = s;
        else if (ub[j] <= 0) gl[t] = 0;
        else if (nl[t] >= 0) {
          gl[t] = a[t] * s;
          const gr = nl[t] * s;
          m1[l][t] = 0.9 * m1[l][t] + 0.1 * gr;
          m2[l][t] = 0.999 * m2[l][t] + 0.001 * gr * gr;
          a[t] = Math.min(1, Math.max(0, a[t] + (lr * m1[l][t]) / c1 / (Math.sqrt(m2[l][t] / c2) + 1e-12)));
        } else {
          gl[t] = (ub[j] / (ub[j] - lb[j])) * (s - lb[j]);
        }
      }
    }
    if (J > 1) {
      // the relaxed pre-activation of layer k at that point, each objective's value there, and the weights' step
      const prev = k > 0 ? g[k - 1] : xStar;
      const nin = Lk.inSize;
      for (let i = 0; i < nk; i++) {
        let s = Lk.bias[i];
        for (let t = 0; t < colsK.length; t++) s += Lk.weights[i * nin + colsK[t]] * prev[t];
        zStar[i] = s;
      }
      const val = cs.map((cj, j) => {
        let s = ds[j];
        for (let i = 0; i < nk; i++) s += cj[i] * zStar[i];
        return s;
      });
      const hi = Math.max(...val);
      const spread = hi - Math.min(...val);
      if (!(spread > 0)) continue;
      let sum = 0;
      for (let j = 0; j < J; j++) {
        w[j] *= Math.exp((WEIGHT_STEP * (val[j] - hi)) / spread);
        sum += w[j];
      }
      for (let j = 0; j < J; j++) w[j] /= sum;
    }
  }
  return { bound: best, weights: bestW };
}

/**
 * One back-substitution with the given lower slopes: returns the (widened) bound, records in nu[l] the coefficient
 * of each live activation of layer l before relaxation and in xStar the corner of the box that minimises the final
 * linear function.
 */
function backward(
  net: Network,
  box: Box,
  bounds: NetworkBounds,
  k: number,
  rows: Int32Array[],
  W: Float64Array[],
  top: Float64Array,
  topCst: number,
  topMag: number,
  alpha: Float64Array[],
  nu: Float64Array[],
  xStar: Float64Array,
): number {
  let A = top.slice();
  let cst = topCst;
  let mag = topMag;
  for (let l = k - 1; l >= 0; l--) {
    const L = net.layers[l];
    const r = rows[l];
    const lb = bounds[l].lo;
    const ub = bounds[l].hi;
    const a = alpha[l];
    nu[l].set(A);
    const nin = l > 0 ? rows[l - 1].length : net.inputSize;
    const B = new Float64Array(nin);
    const Wl = W[l];
    for (let t = 0; t < r.length; t++) {
      let v = A[t];
      if (v === 0) continue;
      const j = r[t];
      if (L.relu[j] && lb[j] < 0) {
        if (ub[j] <= 0) continue;
        if (v >= 0) v *= a[t];
        else {
          const lam = ub[j] / (ub[j] - lb[j]);
          v *= lam;
          const s = v * lb[j];
          cst -= s;
          mag += Math.abs(s);
        }
        if (v === 0) continue;
      }
      cst += v * L.bias[j];
      mag += Math.abs(v * L.bias[j]);
      const ro = t * nin;
      for (let q = 0; q < nin; q++) B[q] += v * Wl[ro + q];
    }
    A = B;
  }
  let s = cst;
  for (let t = 0; t < A.length; t++) {
    const v = A[t];
    xStar[t] = v > 0 ? box.lo[t] : box.hi[t];
    if (v === 0) continue;
    s += v * xStar[t];
    mag += Math.abs(v) * Math.max(Math.abs(box.lo[t]), Math.abs(box.hi[t]));
  }
  return widenLo(s, mag * (k + 1));
}

/**
 * CROWN bounds, then every neuron still unstable, layer by layer from the input, re-bounded with slopes optimised
 * for it (both sides); deeper layers start from the tightened ones below. Costs about 2 x steps back-substitutions
 * per unstable neuron: meant for one box bounded once (a region with many inputs, before MILP), not for the boxes of
 * a branch and bound tree. Stops tightening (keeping what it has, all sound) at the deadline.
 */
export function alphaCrownBounds(net: Network, box: Box, base: NetworkBounds, steps = 8, deadline = Infinity): NetworkBounds {
  const b: NetworkBounds = base.map((l) => ({ lo: l.lo.slice(), hi: l.hi.slice() }));
  const last = net.layers.length - 1;
  for (let k = 1; k <= last; k++) {
    const L = net.layers[k];
    const e = new Float64Array(L.outSize);
    for (let i = 0; i < L.outSize; i++) {
      if (Date.now() > deadline) return b;
      const unstable = L.relu[i] ? b[k].lo[i] < 0 && b[k].hi[i] > 0 : k === last;
      if (!unstable) continue;
      e[i] = 1;
      b[k].lo[i] = Math.max(b[k].lo[i], alphaLower(net, box, b, k, e, 0, { iterations: steps, ...(L.relu[i] ? { target: 0 } : {}) }));
      e[i] = -1;
      if (!L.relu[i] || b[k].lo[i] < 0) b[k].hi[i] = Math.min(b[k].hi[i], -alphaLower(net, box, b, k, e, 0, { iterations: steps, ...(L.relu[i] ? { target: 0 } : {}) }));
      e[i] = 0;
    }
  }
  return b;
}
