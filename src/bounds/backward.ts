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
import { widenHi, widenLo } from './round.ts';
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
  const L = net.layers[k];
  const n = L.inSize;
  // initial row: c^T W_k over layer k-1's activations
  const A0 = new Float64Array(n);
  let c0 = d;
  let mag0 = Math.abs(d);
  for (let i = 0; i < L.outSize; i++) {
    const ci = c[i];
    if (ci === 0) continue;
    c0 += ci * L.bias[i];
    mag0 += Math.abs(ci * L.bias[i]);
    for (let j = 0; j < n; j++) A0[j] += ci * L.weights[i * n + j];
  }
  let widest = 0;
  for (let l = 0; l < k; l++) widest = Math.max(widest, net.layers[l].outSize);
  const nzIdx = new Int32Array(widest);
  const run = (upper: boolean): number => {
    let A = A0.slice();
    let cst = c0;
    let mag = mag0;
    for (let l = k - 1; l >= 0; l--) {
      const Ll = net.layers[l];
      const lb = bounds[l].lo;
      const ub = bounds[l].hi;
      const m = Ll.outSize;
      // through the activations of layer l
      for (let j = 0; j < m; j++) {
        const a = A[j];
        if (a === 0 || !Ll.relu[j]) continue;
        const lo = lb[j];
        const hi = ub[j];
        if (lo >= 0) continue;
        if (hi <= 0) {
          A[j] = 0;
          continue;
        }
        // use the chord on the side that bounds the objective in the wanted direction
        if ((a > 0) === upper) {
          const lam = hi / (hi - lo);
          A[j] = a * lam;
          const t = a * lam * lo;
          cst -= t;
          mag += Math.abs(t);
        } else if (!(hi > -lo)) {
          A[j] = 0;
        }
      }
      // through the affine map of layer l
      const nin = Ll.inSize;
      const B = new Float64Array(nin);
      const W = Ll.weights;
      let nz = 0;
      for (let j = 0; j < m; j++) {
        const a = A[j];
        if (a === 0) continue;
        cst += a * Ll.bias[j];
        mag += Math.abs(a * Ll.bias[j]);
        nzIdx[nz++] = j;
      }
      // four rows of W per pass over B: a quarter of the loads and stores of B (the kernel's bottleneck)
      let q = 0;
      for (; q + 4 <= nz; q += 4) {
        const j0 = nzIdx[q];
        const j1 = nzIdx[q + 1];
        const j2 = nzIdx[q + 2];
        const j3 = nzIdx[q + 3];
        const a0 = A[j0];
        const a1 = A[j1];
        const a2 = A[j2];
        const a3 = A[j3];
        const r0 = j0 * nin;
        const r1 = j1 * nin;
        const r2 = j2 * nin;
        const r3 = j3 * nin;
        for (let t = 0; t < nin; t++) B[t] += a0 * W[r0 + t] + a1 * W[r1 + t] + a2 * W[r2 + t] + a3 * W[r3 + t];
      }
      for (; q < nz; q++) {
        const j = nzIdx[q];
        const a = A[j];
        const row = j * nin;
        for (let t = 0; t < nin; t++) B[t] += a * W[row + t];
      }
      A = B;
    }
    if (coefOut) coefOut.set(A);
    // concretise over the box
    let s = cst;
    for (let t = 0; t < A.length; t++) {
      const a = A[t];
      if (a === 0) continue;
      s += (a > 0) === upper ? a * box.hi[t] : a * box.lo[t];
      mag += Math.abs(a) * Math.max(Math.abs(box.lo[t]), Math.abs(box.hi[t]));
    }
    const scaled = mag * (k + 1);
    return upper ? widenHi(s, scaled) : widenLo(s, scaled);
  };
  return {
    lo: side === 'upper' ? -Infinity : run(false),
    hi: side === 'lower' ? Infinity : run(true),
  };
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
    const c = new Float64Array(L.outSize);
    for (let i = 0; i < L.outSize; i++) {
      const unstable = L.relu[i] ? b[k].lo[i] < 0 && b[k].hi[i] > 0 : k === net.layers.length - 1;
      if (!unstable) continue;
      c[i] = 1;
      const r = backwardBound(net, box, b, k, c);
      c[i] = 0;
      if (r.lo > b[k].lo[i]) b[k].lo[i] = r.lo;
      if (r.hi < b[k].hi[i]) b[k].hi[i] = r.hi;
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
    zl[i] = widenLo(a, mag);
    zh[i] = widenHi(c, mag);
    if (parent) {
      zl[i] = Math.max(zl[i], parent[k].lo[i]);
      zh[i] = Math.min(zh[i], parent[k].hi[i]);
    }
  }
}
