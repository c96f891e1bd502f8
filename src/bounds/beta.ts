/**
 * Bounds under ReLU split constraints (beta-CROWN): a lower bound of c . z_k + d over the inputs of the box where
 * some neurons are fixed active (z >= 0) or inactive (z <= 0). The caller clips each split neuron's bounds (lo = 0
 * or hi = 0), which makes its relaxation exact on the split region; the constraint itself enters as a Lagrangian
 * term: where s z_j >= 0 holds, c . z_k + d >= c . z_k + d - beta s z_j for any beta >= 0, and the right-hand side
 * is bounded over the whole box by back-substitution. Without that term a split would only tighten the neurons
 * above it; with it the bound over a region where every neuron is split approaches the LP optimum.
 *
 * The lower relaxation slopes (alpha) and the multipliers (beta) are optimised together by projected gradient
 * ascent (Adam): one backward pass gives the bound, the coefficient met at each layer and the minimising corner of
 * the box; one forward pass of the relaxed network from that corner gives each pre-activation's relaxed value,
 * which is the derivative of the bound with respect to that pre-activation's coefficient. Every iterate is sound;
 * the best is kept. Dense, full-width layers: meant for ReLU splitting on networks with many inputs, where a node
 * is bounded a few hundred times, not millions.
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NetworkBounds } from './types.ts';
import { widenLo } from './round.ts';
import { addRows, objectiveBelow } from './backward.ts';

/** A split: neuron (layer, index) is constrained to sign * z >= 0 (+1 active, -1 inactive). */
export interface ReluSplit {
  layer: number;
  index: number;
  sign: 1 | -1;
}

/** Slopes and multipliers to start from (a child starts from its parent's). */
export interface SplitBoundState {
  alpha: Float64Array[];
  /** one per split, in the order of the split list (a child's list extends its parent's) */
  beta: Float64Array;
}

export interface SplitBoundResult {
  /** sound lower bound (widened outward), valid on {x in box : every split holds} */
  lower: number;
  /** the box corner that minimises the best iterate's linear bound: a good place to look for a counterexample */
  corner: Float64Array;
  /** per layer below k: how much each unstable, unsplit neuron's relaxation costs the bound (branching scores) */
  scores: Float64Array[];
  state: SplitBoundState;
}

export interface SplitBoundOptions {
  iterations?: number;
  /** Adam step on the slopes (default 0.3) and on the multipliers (default 0.1, relative to the objective's scale) */
  alphaStep?: number;
  betaStep?: number;
  /** stop once the bound exceeds this (default +Infinity) */
  target?: number;
  init?: SplitBoundState;
}

/** Copies of the bounds with a split applied (the split neuron becomes stable). Sound on the split region only. */
export function clipForSplit(bounds: NetworkBounds, s: ReluSplit): NetworkBounds {
  const out = bounds.slice();
  const lb = { lo: bounds[s.layer].lo.slice(), hi: bounds[s.layer].hi.slice() };
  if (s.sign > 0) lb.lo[s.index] = Math.max(lb.lo[s.index], 0);
  else lb.hi[s.index] = Math.min(lb.hi[s.index], 0);
  out[s.layer] = lb;
  return out;
}

export function splitLower(
  net: Network,
  box: Box,
  bounds: NetworkBounds,
  k: number,
  c: Float64Array,
  d: number,
  splits: ReluSplit[],
  opts: SplitBoundOptions = {},
): SplitBoundResult {
  const iters = Math.max(1, opts.iterations ?? 20);
  const lrA = opts.alphaStep ?? 0.3;
  const target = opts.target ?? Infinity;
  const n0 = net.inputSize;
  const layers = net.layers;
  const alpha: Float64Array[] = [];
  const nu: Float64Array[] = [];
  const zhat: Float64Array[] = [];
  const am1: Float64Array[] = [];
  const am2: Float64Array[] = [];
  const bestNu: Float64Array[] = [];
  for (let l = 0; l < k; l++) {
    const L = layers[l];
    const m = L.outSize;
    const a = opts.init?.alpha[l]?.slice() ?? new Float64Array(m);
    if (!opts.init) {
      const lo = bounds[l].lo;
      const hi = bounds[l].hi;
      for (let j = 0; j < m; j++) if (L.relu[j] && lo[j] < 0 && hi[j] > 0) a[j] = hi[j] > -lo[j] ? 1 : 0;
    }
    alpha.push(a);
    nu.push(new Float64Array(m));
    zhat.push(new Float64Array(m));
    am1.push(new Float64Array(m));
    am2.push(new Float64Array(m));
    bestNu.push(new Float64Array(m));
  }
  const ns = splits.length;
  const beta = new Float64Array(ns);
  if (opts.init) beta.set(opts.init.beta.subarray(0, Math.min(ns, opts.init.beta.length)));
  const bm1 = new Float64Array(ns);
  const bm2 = new Float64Array(ns);
  // the objective over layer k-1's activations (or the inputs when k = 0)
  const { top, cst: topCst, mag: topMag } = objectiveBelow(layers[k], c, d);
  // betaStep is relative to the objective's scale: the size of the coefficients the multipliers compete with
  let scale = 0;
  for (let t = 0; t < top.length; t++) scale = Math.max(scale, Math.abs(top[t]));
  const lrB = (opts.betaStep ?? 0.1) * (scale || 1);
  const corner = new Float64Array(n0);
  const bestCorner = new Float64Array(n0);
  let best = -Infinity;
  let bestAlpha = alpha.map((a) => a.slice());
  let bestBeta = beta.slice();
  let maxWidth = 0;
  for (let l = 0; l < k; l++) maxWidth = Math.max(maxWidth, layers[l].outSize);
  const bufA = new Float64Array(Math.max(maxWidth, n0, top.length));
  const nzRows = new Int32Array(bufA.length);
  const splitHere = layers.slice(0, k).map((L) => new Uint8Array(L.outSize));
  for (const s of splits) splitHere[s.layer][s.index] = 1;
  const bufB = new Float64Array(bufA.length);
  const act = new Float64Array(bufA.length);
  const prevAct = new Float64Array(bufA.length);
  for (let it = 0; it < iters; it++) {
    // backward pass: the bound, the coefficient on each layer's activations (nu), the minimising corner
    let A = bufA;
    let B = bufB;
    A.set(top);
    let cst = topCst;
    let mag = topMag;
    for (let l = k - 1; l >= 0; l--) {
      const L = layers[l];
      const m = L.outSize;
      const nin = L.inSize;
      const lb = bounds[l].lo;
      const ub = bounds[l].hi;
      const a = alpha[l];
      nu[l].set(A.subarray(0, m));
      // coefficients on the activations -> on the pre-activations, through the relaxation
      for (let j = 0; j < m; j++) {
        let v = A[j];
        if (v === 0 || !L.relu[j] || lb[j] >= 0) continue;
        if (ub[j] <= 0) v = 0;
        else if (v > 0) v *= a[j];
        else {
          const lam = ub[j] / (ub[j] - lb[j]);
          v *= lam;
          const s = v * lb[j];
          cst -= s;
          mag += Math.abs(s);
        }
        A[j] = v;
      }
      // the Lagrangian terms of the splits at this layer: - beta s z_j
      for (let q = 0; q < ns; q++) if (splits[q].layer === l) A[splits[q].index] -= beta[q] * splits[q].sign;
      // through the affine map
      B.fill(0, 0, nin);
      let nz = 0;
      for (let j = 0; j < m; j++) {
        const v = A[j];
        if (v === 0) continue;
        cst += v * L.bias[j];
        mag += Math.abs(v * L.bias[j]);
        nzRows[nz++] = j;
      }
      addRows(B, 0, L.weights, nin, A, 0, nzRows, nz);
      const t = A;
      A = B;
      B = t;
    }
    let s = cst;
    for (let q = 0; q < n0; q++) {
      const v = A[q];
      corner[q] = v > 0 ? box.lo[q] : box.hi[q];
      if (v === 0) continue;
      s += v * corner[q];
      mag += Math.abs(v) * Math.max(Math.abs(box.lo[q]), Math.abs(box.hi[q]));
    }
    const bound = widenLo(s, mag * (k + 1));
    if (bound > best) {
      best = bound;
      bestCorner.set(corner);
      bestAlpha = alpha.map((x) => x.slice());
      bestBeta = beta.slice();
      for (let l = 0; l < k; l++) bestNu[l].set(nu[l]);
    }
    if (best > target || it === iters - 1) break;
    // forward pass of the relaxed network from the corner: zhat = d bound / d (coefficient of z)
    prevAct.set(corner);
    const t1 = it + 1;
    const c1 = 1 - 0.9 ** t1;
    const c2 = 1 - 0.999 ** t1;
    for (let l = 0; l < k; l++) {
      const L = layers[l];
      const m = L.outSize;
      const nin = L.inSize;
      const lb = bounds[l].lo;
      const ub = bounds[l].hi;
      const a = alpha[l];
      const nl = nu[l];
      const zh = zhat[l];
      for (let j = 0; j < m; j++) {
        // a dead neuron feeds nothing forward; its value matters only when a split's multiplier meets it
        if (L.relu[j] && ub[j] <= 0 && !splitHere[l][j]) {
          act[j] = 0;
          continue;
        }
        let z = L.bias[j];
        const row = j * nin;
        for (let q = 0; q < nin; q++) z += L.weights[row + q] * prevAct[q];
        zh[j] = z;
        if (!L.relu[j] || lb[j] >= 0) act[j] = z;
        else if (ub[j] <= 0) act[j] = 0;
        else if (nl[j] > 0) {
          act[j] = a[j] * z;
          const gr = nl[j] * z;
          am1[l][j] = 0.9 * am1[l][j] + 0.1 * gr;
          am2[l][j] = 0.999 * am2[l][j] + 0.001 * gr * gr;
          a[j] = Math.min(1, Math.max(0, a[j] + (lrA * am1[l][j]) / c1 / (Math.sqrt(am2[l][j] / c2) + 1e-12)));
        } else act[j] = (ub[j] / (ub[j] - lb[j])) * (z - lb[j]);
      }
      prevAct.set(act.subarray(0, m));
    }
    for (let q = 0; q < ns; q++) {
      const gr = -splits[q].sign * zhat[splits[q].layer][splits[q].index];
      bm1[q] = 0.9 * bm1[q] + 0.1 * gr;
      bm2[q] = 0.999 * bm2[q] + 0.001 * gr * gr;
      beta[q] = Math.max(0, beta[q] + (lrB * bm1[q]) / c1 / (Math.sqrt(bm2[q] / c2) + 1e-12));
    }
  }
  // branching scores: the triangle relaxation's worst gap times the coefficient that meets it
  const scores: Float64Array[] = [];
  for (let l = 0; l < k; l++) {
    const L = layers[l];
    const sc = new Float64Array(L.outSize);
    const lb = bounds[l].lo;
    const ub = bounds[l].hi;
    for (let j = 0; j < L.outSize; j++) {
      if (!L.relu[j] || lb[j] >= 0 || ub[j] <= 0) continue;
      sc[j] = (Math.abs(bestNu[l][j]) * ub[j] * -lb[j]) / (ub[j] - lb[j]);
    }
    scores.push(sc);
  }
  return { lower: best, corner: bestCorner, scores, state: { alpha: bestAlpha, beta: bestBeta } };
}
