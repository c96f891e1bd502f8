/**
 * Backward bound propagation (CROWN / DeepPoly back-substitution) of ONE linear objective c . z_k through the ReLU
 * relaxations of the layers below, given their pre-activation bounds. One objective costs sum_l n_l n_(l-1)
 * multiply-adds, so it is cheap to run for just the neurons that matter (the unstable ones, or a census candidate).
 * crownBounds: forward symbolic bounds for everything, refined layer by layer by back-substitution for the
 * neurons that are still unstable (tighter than forward propagation on deep layers, where relaxation errors of
 * forward functions pile up).
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NetworkBounds } from './types.ts';
import { termsVanish, widenHi, widenLo } from './round.ts';
import { symbolicBounds } from './symbolic.ts';

/**
 * Sound bounds of c . z_k + d over the box, where z_k is layer k's pre-activation and bounds[0..k-1] are sound
 * pre-activation bounds of the layers below. `upperOnly` / `lowerOnly` skip the other side.
 */
export function backwardBound(
  net: Network,
  box: Box,
  bounds: NetworkBounds,
  k: number,
  c: Float64Array,
  d = 0,
  side: 'both' | 'upper' | 'lower' = 'both',
  /** receives the input coefficients of the (last computed) side's linear bound: how much each input matters */
  coefOut?: Float64Array,
): { lo: number; hi: number } {
  const out = new Float64Array(1);
  const obj = { c, d };
  let lo = -Infinity;
  let hi = Infinity;
  if (side !== 'upper') {
    backSubstitute(net, box, bounds, k, obj, false, out, coefOut);
    lo = out[0];
  }
  if (side !== 'lower') {
    backSubstitute(net, box, bounds, k, obj, true, out, coefOut);
    hi = out[0];
  }
  return { lo, hi };
}

/**
 * Neurons provably dead (ReLU with pre-activation upper bound <= 0) contribute nothing to any back-substitution, so
 * each layer's weights are kept restricted to the live neurons of it and of the layer below: on the small boxes of
 * a branch and bound tree half the neurons are dead and this skips about three quarters of the multiply-adds.
 * Cached per bounds object and built on first use; bounds only ever tighten after that, so a neuron counted live
 * that later dies is merely relaxed to zero as before (sound, identical result).
 */
export interface LiveLayers {
  live: Array<Int32Array | undefined>;
  weights: Array<Float64Array | undefined>;
}
const liveCache = new WeakMap<NetworkBounds, LiveLayers>();

export function liveLayers(bounds: NetworkBounds): LiveLayers {
  let c = liveCache.get(bounds);
  if (!c) {
    c = { live: [], weights: [] };
    liveCache.set(bounds, c);
  }
  return c;
}

/** Live neurons of layer l (l = -1: the inputs, all live). */
export function liveOf(net: Network, bounds: NetworkBounds, cache: LiveLayers, l: number): Int32Array {
  if (l < 0) {
    let all = cache.live[net.layers.length];
    if (!all) all = cache.live[net.layers.length] = Int32Array.from({ length: net.inputSize }, (_, i) => i);
    return all;
  }
  let v = cache.live[l];
  if (!v) {
    const L = net.layers[l];
    const hi = bounds[l].hi;
    const idx: number[] = [];
    for (let j = 0; j < L.outSize; j++) if (!(L.relu[j] && hi[j] <= 0)) idx.push(j);
    v = cache.live[l] = Int32Array.from(idx);
  }
  return v;
}

/** Layer l's weights restricted to its live neurons (rows) and the live neurons of layer l-1 (columns). */
export function liveWeights(net: Network, bounds: NetworkBounds, cache: LiveLayers, l: number): Float64Array {
  let w = cache.weights[l];
  if (!w) {
    const rows = liveOf(net, bounds, cache, l);
    const cols = liveOf(net, bounds, cache, l - 1);
    const L = net.layers[l];
    const n = L.inSize;
    const nc = cols.length;
    w = cache.weights[l] = new Float64Array(rows.length * nc);
    for (let r = 0; r < rows.length; r++) {
      const src = rows[r] * n;
      for (let t = 0; t < nc; t++) w[r * nc + t] = L.weights[src + cols[t]];
    }
  }
  return w;
}

/**
 * The linear objective c . z_k + d written over layer k-1's activations (layer k's affine map folded in): the
 * coefficients on the listed columns (all of them when `cols` is absent), the constant, and the magnitude of the
 * constant's terms (for the outward rounding).
 */
export function objectiveBelow(Lk: Network['layers'][number], c: Float64Array, d: number, cols?: Int32Array): { top: Float64Array; cst: number; mag: number } {
  const n = Lk.inSize;
  const m = cols ? cols.length : n;
  const top = new Float64Array(m);
  let cst = d;
  let mag = Math.abs(d);
  for (let i = 0; i < Lk.outSize; i++) {
    const ci = c[i];
    if (ci === 0) continue;
    cst += ci * Lk.bias[i];
    mag += Math.abs(ci * Lk.bias[i]);
    const row = i * n;
    if (cols) for (let t = 0; t < m; t++) top[t] += ci * Lk.weights[row + cols[t]];
    else for (let t = 0; t < m; t++) top[t] += ci * Lk.weights[row + t];
  }
  return { top, cst, mag };
}

/**
 * B[bo + t] += sum over p < nz of A[ao + idx[p]] * W[idx[p] * nin + t]: rows of W (nin wide) scaled and summed into
 * B. Four rows per pass over B: a quarter of its loads and stores, the back-substitution's bottleneck.
 */
export function addRows(B: Float64Array, bo: number, W: Float64Array, nin: number, A: Float64Array, ao: number, idx: Int32Array, nz: number): void {
  let q = 0;
  for (; q + 4 <= nz; q += 4) {
    const t0 = idx[q];
    const t1 = idx[q + 1];
    const t2 = idx[q + 2];
    const t3 = idx[q + 3];
    const a0 = A[ao + t0];
    const a1 = A[ao + t1];
    const a2 = A[ao + t2];
    const a3 = A[ao + t3];
    const r0 = t0 * nin;
    const r1 = t1 * nin;
    const r2 = t2 * nin;
    const r3 = t3 * nin;
    for (let t = 0; t < nin; t++) B[bo + t] += a0 * W[r0 + t] + a1 * W[r1 + t] + a2 * W[r2 + t] + a3 * W[r3 + t];
  }
  for (; q < nz; q++) {
    const t0 = idx[q];
    const a = A[ao + t0];
    const r0 = t0 * nin;
    for (let t = 0; t < nin; t++) B[bo + t] += a * W[r0 + t];
  }
}

/**
 * One side (upper or lower) of the back-substitution of several objectives over layer k at once: either the
 * pre-activations of the neurons listed in `units`, or one linear objective c . z_k + d. Results go to `out`
 * (one per objective), widened outward. Works in the coordinates of the live neurons only.
 */
function backSubstitute(
  net: Network,
  box: Box,
  bounds: NetworkBounds,
  k: number,
  obj: { units: Int32Array } | { c: Float64Array; d: number },
  upper: boolean,
  out: Float64Array,
  coefOut?: Float64Array,
): void {
  const cache = liveLayers(bounds);
  const Lk = net.layers[k];
  const n = Lk.inSize;
  const colsK = liveOf(net, bounds, cache, k - 1);
  let m = colsK.length;
  const u = 'units' in obj ? obj.units.length : 1;
  let A = new Float64Array(u * m);
  const cst = new Float64Array(u);
  const mag = new Float64Array(u);
  // initial rows: c^T W_k over layer k-1's live activations
  if ('units' in obj) {
    for (let r = 0; r < u; r++) {
      const i = obj.units[r];
      cst[r] = Lk.bias[i];
      mag[r] = Math.abs(Lk.bias[i]);
      const row = i * n;
      for (let t = 0; t < m; t++) A[r * m + t] = Lk.weights[row + colsK[t]];
    }
  } else {
    const o = objectiveBelow(Lk, obj.c, obj.d, colsK);
    A.set(o.top);
    cst[0] = o.cst;
    mag[0] = o.mag;
  }
  let widest = 1;
  for (let l = 0; l < k; l++) widest = Math.max(widest, net.layers[l].outSize);
  const nzIdx = new Int32Array(widest);
  for (let l = k - 1; l >= 0; l--) {
    const Ll = net.layers[l];
    const rows = liveOf(net, bounds, cache, l);
    const lb = bounds[l].lo;
    const ub = bounds[l].hi;
    const W = liveWeights(net, bounds, cache, l);
    const nin = liveOf(net, bounds, cache, l - 1).length;
    const B = new Float64Array(u * nin);
    for (let r = 0; r < u; r++) {
      const ao = r * m;
      // through the activations of layer l
      for (let t = 0; t < m; t++) {
        const a = A[ao + t];
        const j = rows[t];
        if (a === 0 || !Ll.relu[j]) continue;
        const lo = lb[j];
        const hi = ub[j];
        if (lo >= 0) continue;
        if (hi <= 0) {
          A[ao + t] = 0;
          continue;
        }
        // use the chord on the side that bounds the objective in the wanted direction
        if ((a > 0) === upper) {
          const lam = hi / (hi - lo);
          A[ao + t] = a * lam;
          const s = a * lam * lo;
          cst[r] -= s;
          mag[r] += Math.abs(s);
        } else if (!(hi > -lo)) {
          A[ao + t] = 0;
        }
      }
      // through the affine map of layer l
      let nz = 0;
      for (let t = 0; t < m; t++) {
        const a = A[ao + t];
        if (a === 0) continue;
        const bj = Ll.bias[rows[t]];
        cst[r] += a * bj;
        mag[r] += Math.abs(a * bj);
        nzIdx[nz++] = t;
      }
      addRows(B, r * nin, W, nin, A, ao, nzIdx, nz);
    }
    A = B;
    m = nin;
  }
  // concretise over the box (the inputs are all live: coordinates are input indices)
  for (let r = 0; r < u; r++) {
    const ao = r * m;
    let s = cst[r];
    let mg = mag[r];
    for (let t = 0; t < m; t++) {
      const a = A[ao + t];
      if (a === 0) continue;
      s += (a > 0) === upper ? a * box.hi[t] : a * box.lo[t];
      mg += Math.abs(a) * Math.max(Math.abs(box.lo[t]), Math.abs(box.hi[t]));
    }
    const scaled = mg * (k + 1);
    out[r] = upper ? widenHi(s, scaled) : widenLo(s, scaled);
  }
  if (coefOut) coefOut.set(A.subarray(0, m));
}

/**
 * Forward symbolic bounds, then back-substitution for every neuron still unstable, layer by layer. With `parent`
 * (bounds over a box containing this one) the neurons it already settles skip the back-substitution: in a branch
 * and bound tree most of the work.
 */
export function crownBounds(net: Network, box: Box, parent?: NetworkBounds): NetworkBounds {
  let widest = 0;
  for (const L of net.layers) widest = Math.max(widest, L.outSize);
  // forward symbolic bounds cost (inputs + 1) per weight: with many inputs (MNIST) start from intervals instead
  const b = net.inputSize + 1 > widest ? layerwiseIntervals(net, box, parent) : symbolicBounds(net, box, parent);
  const lazy = lazyLayers.get(b);
  for (let k = 1; k < net.layers.length; k++) {
    const L = net.layers[k];
    if (lazy) layerInterval(net, box, b, k, lazy.parent);
    const units: number[] = [];
    for (let i = 0; i < L.outSize; i++) {
      const unstable = L.relu[i] ? b[k].lo[i] < 0 && b[k].hi[i] > 0 : k === net.layers.length - 1;
      if (unstable) units.push(i);
    }
    if (units.length === 0) continue;
    const idx = Int32Array.from(units);
    const lo = new Float64Array(idx.length);
    const hi = new Float64Array(idx.length);
    backSubstitute(net, box, b, k, { units: idx }, false, lo);
    backSubstitute(net, box, b, k, { units: idx }, true, hi);
    for (let r = 0; r < idx.length; r++) {
      const i = idx[r];
      if (lo[r] > b[k].lo[i]) b[k].lo[i] = lo[r];
      if (hi[r] < b[k].hi[i]) b[k].hi[i] = hi[r];
    }
  }
  return b;
}

/**
 * Interval bounds computed layer by layer FROM the bounds being refined: crownBounds tightens layer k (by
 * back-substitution) before layer k+1's interval is taken, so each layer starts from the best bounds below it.
 * Layers not yet reached hold provisional intervals until their turn.
 */
function layerwiseIntervals(net: Network, box: Box, parent?: NetworkBounds): NetworkBounds {
  const out: NetworkBounds = net.layers.map((L) => ({ lo: new Float64Array(L.outSize), hi: new Float64Array(L.outSize) }));
  layerInterval(net, box, out, 0, parent);
  lazyLayers.set(out, { box, parent });
  return out;
}
const lazyLayers = new WeakMap<NetworkBounds, { box: Box; parent?: NetworkBounds }>();

/** Interval bounds of layer k's pre-activation from layer k-1's bounds (or the box), intersected with parent. */
function layerInterval(net: Network, box: Box, b: NetworkBounds, k: number, parent?: NetworkBounds): void {
  const L = net.layers[k];
  const n = L.inSize;
  const P = k > 0 ? net.layers[k - 1] : undefined;
  const zl = b[k].lo;
  const zh = b[k].hi;
  for (let i = 0; i < L.outSize; i++) {
    let a = L.bias[i];
    let c = L.bias[i];
    let mag = Math.abs(L.bias[i]);
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const w = L.weights[row + j];
      if (w === 0) continue;
      let lo: number;
      let hi: number;
      if (!P) {
        lo = box.lo[j];
        hi = box.hi[j];
      } else {
        lo = b[k - 1].lo[j];
        hi = b[k - 1].hi[j];
        if (P.relu[j]) {
          lo = Math.max(lo, 0);
          hi = Math.max(hi, 0);
        }
      }
      if (w > 0) {
        a += w * lo;
        c += w * hi;
      } else {
        a += w * hi;
        c += w * lo;
      }
      mag += Math.abs(w) * Math.max(Math.abs(lo), Math.abs(hi));
    }
    // every term exactly 0 (zero weights, or dead inputs): exactly 0, no rounding to widen for
    const exact = mag === 0 && termsVanish(L.bias[i], L.weights, row, n, P ? activationLo(P, b[k - 1]) : box.lo, P ? activationHi(P, b[k - 1]) : box.hi);
    zl[i] = exact ? 0 : widenLo(a, mag);
    zh[i] = exact ? 0 : widenHi(c, mag);
    if (parent) {
      zl[i] = Math.max(zl[i], parent[k].lo[i]);
      zh[i] = Math.min(zh[i], parent[k].hi[i]);
    }
  }
}

/** The activations' bounds of layer P from its pre-activation bounds (only for the rare exactness check). */
function activationLo(P: Network['layers'][number], b: { lo: Float64Array }): Float64Array {
  return b.lo.map((v, j) => (P.relu[j] ? Math.max(v, 0) : v));
}
function activationHi(P: Network['layers'][number], b: { hi: Float64Array }): Float64Array {
  return b.hi.map((v, j) => (P.relu[j] ? Math.max(v, 0) : v));
}
