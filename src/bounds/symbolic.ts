/**
 * Forward symbolic bounds (Neurify / ReluVal style): every neuron carries a lower and an upper linear function of
 * the input x, concretised over the box and intersected with interval bounds. Through an unstable ReLU with
 * pre-activation bounds [l, u]: upper = u/(u-l) (U(x) - l) (the chord), lower = a L(x) with a in {0, 1} chosen by
 * the larger side (as CROWN's adaptive slope). Cost O(n^2 (d+1)) per layer for d inputs: the fast path when inputs
 * are few (ACAS Xu: 5), where input splitting then makes the bounds as tight as needed.
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NetworkBounds } from './types.ts';
import { widenHi, widenLo } from './round.ts';

/** Output-layer linear functions kept per bounds object, so linear objectives need no recomputation. */
interface OutputSym {
  lower: Float64Array;
  upper: Float64Array;
  d: number;
}
export const outputSym = new WeakMap<NetworkBounds, OutputSym>();

/**
 * `parent`: sound bounds over a box containing this one (the parent in a branch and bound tree); intersecting with
 * them is sound and makes the relaxations of the following layers tighter.
 */
export function symbolicBounds(net: Network, box: Box, parent?: NetworkBounds): NetworkBounds {
  const d = net.inputSize;
  const D = d + 1;
  const lo = box.lo;
  const hi = box.hi;
  // symbolic lower/upper functions of the current activations, row-major (neuron x D), last column = constant
  let aL = new Float64Array(d * D);
  let aU = new Float64Array(d * D);
  for (let i = 0; i < d; i++) {
    aL[i * D + i] = 1;
    aU[i * D + i] = 1;
  }
  let pLo: Float64Array = box.lo;
  let pHi: Float64Array = box.hi;
  const out: NetworkBounds = [];
  const last = net.layers.length - 1;
  // activations that are identically zero (dead ReLUs) add nothing: only the others are visited
  let liveIn = Int32Array.from({ length: d }, (_, i) => i);
  for (let k = 0; k <= last; k++) {
    const L = net.layers[k];
    const n = L.inSize;
    const m = L.outSize;
    const nLive = liveIn.length;
    const zL = new Float64Array(m * D);
    const zU = new Float64Array(m * D);
    const zl = new Float64Array(m);
    const zh = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const ro = i * D;
      zL[ro + d] = L.bias[i];
      zU[ro + d] = L.bias[i];
      let il = L.bias[i];
      let ih = L.bias[i];
      let imag = Math.abs(L.bias[i]);
      for (let q = 0; q < nLive; q++) {
        const j = liveIn[q];
        const w = L.weights[i * n + j];
        if (w === 0) continue;
        const jo = j * D;
        if (w > 0) {
          for (let t = 0; t < D; t++) {
            zL[ro + t] += w * aL[jo + t];
            zU[ro + t] += w * aU[jo + t];
          }
          il += w * pLo[j];
          ih += w * pHi[j];
        } else {
          for (let t = 0; t < D; t++) {
            zL[ro + t] += w * aU[jo + t];
            zU[ro + t] += w * aL[jo + t];
          }
          il += w * pHi[j];
          ih += w * pLo[j];
        }
        imag += Math.abs(w) * Math.max(Math.abs(pLo[j]), Math.abs(pHi[j]));
      }
      // concretise both functions over the box
      let sl = zL[ro + d];
      let sh = zU[ro + d];
      let ml = Math.abs(sl);
      let mh = Math.abs(sh);
      for (let t = 0; t < d; t++) {
        const cl = zL[ro + t];
        const ch = zU[ro + t];
        sl += cl > 0 ? cl * lo[t] : cl * hi[t];
        sh += ch > 0 ? ch * hi[t] : ch * lo[t];
        const xm = Math.max(Math.abs(lo[t]), Math.abs(hi[t]));
        ml += Math.abs(cl) * xm;
        mh += Math.abs(ch) * xm;
      }
      // the symbolic functions accumulate rounding over the layers: widen by their magnitude times the depth
      const depth = k + 1;
      zl[i] = Math.max(widenLo(sl, ml * depth), widenLo(il, imag));
      zh[i] = Math.min(widenHi(sh, mh * depth), widenHi(ih, imag));
      // every live term exactly 0 (dead inputs are exactly 0 too): the pre-activation is exactly 0
      if (imag === 0 && liveTermsVanish(L.bias[i], L.weights, i * n, liveIn, pLo, pHi)) zl[i] = zh[i] = 0;
    }
    if (parent) {
      const P = parent[k];
      for (let i = 0; i < m; i++) {
        if (P.lo[i] > zl[i]) zl[i] = P.lo[i];
        if (P.hi[i] < zh[i]) zh[i] = P.hi[i];
      }
    }
    out.push({ lo: zl, hi: zh });
    if (k === last) {
      outputSym.set(out, { lower: zL, upper: zU, d });
      break;
    }
    // through the activations
    const nL = new Float64Array(m * D);
    const nU = new Float64Array(m * D);
    const nLo = new Float64Array(m);
    const nHi = new Float64Array(m);
    const live: number[] = [];
    for (let i = 0; i < m; i++) {
      if (!L.relu[i] || zh[i] > 0) live.push(i);
      const l = zl[i];
      const u = zh[i];
      reluRelaxRows(zL, zU, nL, nU, i * D, D, L.relu[i] === 1, l, u);
      nLo[i] = L.relu[i] ? Math.max(l, 0) : l;
      nHi[i] = L.relu[i] ? Math.max(u, 0) : u;
    }
    aL = nL;
    aU = nU;
    pLo = nLo;
    pHi = nHi;
    liveIn = Int32Array.from(live);
  }
  return out;
}

/**
 * Row `ro` of a neuron's lower / upper linear functions (zL, zU; D columns, the last the constant) through its
 * activation, into nL, nU (which start at 0): unchanged where the neuron is linear or surely active, 0 where surely
 * inactive; otherwise the chord u / (u - l) (z - l) above, and below z itself or 0, whichever side is larger.
 */
export function reluRelaxRows(zL: Float64Array, zU: Float64Array, nL: Float64Array, nU: Float64Array, ro: number, D: number, relu: boolean, l: number, u: number): void {
  if (!relu || l >= 0) {
    nL.set(zL.subarray(ro, ro + D), ro);
    nU.set(zU.subarray(ro, ro + D), ro);
  } else if (u > 0) {
    const lam = u / (u - l);
    for (let t = 0; t < D; t++) nU[ro + t] = lam * zU[ro + t];
    nU[ro + D - 1] -= lam * l;
    if (u > -l) nL.set(zL.subarray(ro, ro + D), ro);
  }
}

/** termsVanish over the live inputs only (the others are dead ReLUs, exactly 0). */
function liveTermsVanish(b: number, w: Float64Array, row: number, live: Int32Array, lo: Float64Array, hi: Float64Array): boolean {
  if (b !== 0) return false;
  for (const j of live) if (w[row + j] !== 0 && (lo[j] !== 0 || hi[j] !== 0)) return false;
  return true;
}
