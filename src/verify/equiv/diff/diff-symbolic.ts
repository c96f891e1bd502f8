/**
 * Symbolic difference bounds (ReluDiff / NeuroDiff style): the difference D of every layer (diff-bounds.ts) is
 * carried as a lower and an upper linear function of the input x, next to f's own activations as linear functions of
 * x, so what the two networks share cancels symbolically instead of adding up interval widths layer after layer. For
 * few inputs (cost O(n^2 (d+1)) per layer): input splitting then makes both relaxations as tight as needed.
 *
 * Through a ReLU the activation difference delta = relu(z + D) - relu(z) (z: f's pre-activation, bounds [l, u] from
 * f's own bounds; D in [d0, d1]) is relaxed by cases: both sides surely active, delta = D; both inactive, 0; f active,
 * D <= delta <= max(D, 0); f inactive, 0 <= delta <= relu(u + D); otherwise min(D, 0) <= delta <= max(D, 0), each
 * side by its chord over [d0, d1]. The caller intersects the result with the interval bounds at every layer.
 */
import type { Box } from '../../../model/box.ts';
import type { NetworkBounds } from '../../../bounds/types.ts';
import { widenHi, widenLo } from '../../../bounds/round.ts';
import { reluRelaxRows } from '../../../bounds/symbolic.ts';
import type { DiffPlan } from './diff-plan.ts';
import { relaxDelta } from './diff-activation.ts';

export class SymbolicDifference {
  private readonly d: number;
  private readonly D: number;
  /** f's activations feeding the current layer, lower / upper functions of x (neuron x D, last column constant) */
  private aL: Float64Array;
  private aU: Float64Array;
  /** the activation differences a_g - a_f feeding the current layer, and which are exactly 0 (skipped) */
  private dL: Float64Array;
  private dU: Float64Array;
  private dZero: Uint8Array;
  /** magnitudes of the terms behind each function (for outward rounding) */
  private aMag: Float64Array;
  private dMag: Float64Array;
  /** f's concrete activation bounds feeding the current layer */
  private aLo: Float64Array;
  private aHi: Float64Array;
  /** the current layer's f pre-activation functions and D functions (set by layer()) */
  private zL = new Float64Array(0);
  private zU = new Float64Array(0);
  private zMag = new Float64Array(0);
  private DL = new Float64Array(0);
  private DU = new Float64Array(0);
  private DMag = new Float64Array(0);

  constructor(
    private readonly plan: DiffPlan,
    private readonly box: Box,
    private readonly fb: NetworkBounds,
  ) {
    const d = box.lo.length;
    this.d = d;
    this.D = d + 1;
    this.aL = new Float64Array(d * this.D);
    for (let i = 0; i < d; i++) this.aL[i * this.D + i] = 1;
    this.aU = this.aL.slice();
    this.dL = new Float64Array(d * this.D);
    this.dU = new Float64Array(d * this.D);
    this.dZero = new Uint8Array(d).fill(1);
    this.aMag = Float64Array.from({ length: d }, (_, i) => Math.max(Math.abs(box.lo[i]), Math.abs(box.hi[i])));
    this.dMag = new Float64Array(d);
    this.aLo = box.lo;
    this.aHi = box.hi;
  }

  /** Sound bounds of D at layer k (given the merge residuals' intervals rLo, rHi of that layer, if any). */
  layer(k: number, rLo: Float64Array, rHi: Float64Array): { lo: Float64Array; hi: Float64Array } {
    const { d, D } = this;
    const P = this.plan.layers[k];
    const Lf = this.plan.pair.f.layers[k];
    const Lg = this.plan.pair.g.layers[k];
    const { out, inp } = P;
    const nm = P.merged.length;
    const zL = new Float64Array(out * D);
    const zU = new Float64Array(out * D);
    const DL = new Float64Array(out * D);
    const DU = new Float64Array(out * D);
    const zMag = new Float64Array(out);
    const DMag = new Float64Array(out);
    const lo = new Float64Array(out);
    const hi = new Float64Array(out);
    const { aL, aU, dL, dU, dZero, aMag, dMag, aLo, aHi } = this;
    for (let j = 0; j < out; j++) {
      const ro = j * D;
      const row = j * inp;
      // f's pre-activation
      zL[ro + d] = Lf.bias[j];
      zU[ro + d] = Lf.bias[j];
      let zm = Math.abs(Lf.bias[j]);
      // D: bias residual, merge residuals and the residual weights' rounding as constants
      let cl = P.bd[j] - P.bdErr[j];
      let ch = P.bd[j] + P.bdErr[j];
      let dm = Math.abs(P.bd[j]) + P.bdErr[j];
      for (let m = 0; m < nm; m++) {
        const cf = P.rhoCoef[j * nm + m];
        if (cf === 0) continue;
        cl += cf > 0 ? cf * rLo[m] : cf * rHi[m];
        ch += cf > 0 ? cf * rHi[m] : cf * rLo[m];
        dm += Math.abs(cf) * Math.max(Math.abs(rLo[m]), Math.abs(rHi[m]));
      }
      for (let q = 0; q < inp; q++) {
        const qo = q * D;
        // f's activation q is exactly 0 on the box (a dead ReLU): its f and E terms vanish
        const live = aHi[q] !== 0 || aLo[q] !== 0;
        const wf = Lf.weights[row + q];
        if (wf !== 0 && live) {
          addRow(zL, zU, ro, wf, aL, aU, qo, D);
          zm += Math.abs(wf) * aMag[q];
        }
        const wg = Lg.weights[row + q];
        if (wg !== 0 && !dZero[q]) {
          addRow(DL, DU, ro, wg, dL, dU, qo, D);
          dm += Math.abs(wg) * dMag[q];
        }
        const e = P.E[row + q];
        if (e !== 0 && live) {
          addRow(DL, DU, ro, e, aL, aU, qo, D);
          dm += Math.abs(e) * aMag[q];
        }
        const ee = P.Eerr[row + q];
        if (ee !== 0) {
          const w = ee * Math.max(Math.abs(aLo[q]), Math.abs(aHi[q]));
          cl -= w;
          ch += w;
          dm += w;
        }
      }
      DL[ro + d] += cl;
      DU[ro + d] += ch;
      zMag[j] = zm;
      DMag[j] = dm;
      // rounding accumulates over the layers in the functions' coefficients: widen by the terms' magnitude x depth
      lo[j] = widenLo(lowerOver(DL, ro, d, this.box), dm * (k + 1));
      hi[j] = widenHi(upperOver(DU, ro, d, this.box), dm * (k + 1));
    }
    this.zL = zL;
    this.zU = zU;
    this.zMag = zMag;
    this.DL = DL;
    this.DU = DU;
    this.DMag = DMag;
    return { lo, hi };
  }

  /** Through layer k's activations, given the final bounds [dLo, dHi] of D at layer k (intersected by the caller). */
  activate(k: number, dLo: Float64Array, dHi: Float64Array): void {
    const { d, D, zL, zU, DL, DU } = this;
    const Lf = this.plan.pair.f.layers[k];
    const out = Lf.outSize;
    const aL = new Float64Array(out * D);
    const aU = new Float64Array(out * D);
    const nL = new Float64Array(out * D);
    const nU = new Float64Array(out * D);
    const dZero = new Uint8Array(out);
    const aMag = new Float64Array(out);
    const dMag = new Float64Array(out);
    const aLo = new Float64Array(out);
    const aHi = new Float64Array(out);
    const fl = this.fb[k].lo;
    const fh = this.fb[k].hi;
    const rel = relaxDelta(this.plan, k, this.fb, dLo, dHi);
    for (let j = 0; j < out; j++) {
      const ro = j * D;
      const l = fl[j];
      const u = fh[j];
      const fr = Lf.relu[j] === 1;
      // f's activation, relaxed as in forward symbolic bounds but from f's own (tighter) bounds
      reluRelaxRows(zL, zU, aL, aU, ro, D, fr, l, u);
      aMag[j] = this.zMag[j];
      aLo[j] = fr ? Math.max(l, 0) : l;
      aHi[j] = fr ? Math.max(u, 0) : u;
      // the activation difference, between lamL D + muL and lamU D + muU (slopes >= 0: D's lower row gives the lower
      // side): the case analysis the backward difference bounds use too
      const lamL = rel.lamL[j];
      const lamU = rel.lamU[j];
      dMag[j] = this.DMag[j] + rel.mag[j];
      if (lamL === 0 && lamU === 0 && rel.muL[j] === 0 && rel.muU[j] === 0) {
        dZero[j] = 1;
        continue;
      }
      if (lamL === 1) copyRow(nL, DL, ro, D);
      else if (lamL !== 0) for (let t = 0; t < D; t++) nL[ro + t] = lamL * DL[ro + t];
      if (lamU === 1) copyRow(nU, DU, ro, D);
      else if (lamU !== 0) for (let t = 0; t < D; t++) nU[ro + t] = lamU * DU[ro + t];
      nL[ro + d] += rel.muL[j];
      nU[ro + d] += rel.muU[j];
    }
    this.aL = aL;
    this.aU = aU;
    this.dL = nL;
    this.dU = nU;
    this.dZero = dZero;
    this.aMag = aMag;
    this.dMag = dMag;
    this.aLo = aLo;
    this.aHi = aHi;
  }
}

/** lower/upper rows += w x (the lower/upper functions of one activation), the sides swapped for w < 0 */
function addRow(L: Float64Array, U: Float64Array, ro: number, w: number, aL: Float64Array, aU: Float64Array, qo: number, D: number): void {
  if (w > 0) {
    for (let t = 0; t < D; t++) {
      L[ro + t] += w * aL[qo + t];
      U[ro + t] += w * aU[qo + t];
    }
  } else {
    for (let t = 0; t < D; t++) {
      L[ro + t] += w * aU[qo + t];
      U[ro + t] += w * aL[qo + t];
    }
  }
}

function copyRow(dst: Float64Array, src: Float64Array, ro: number, D: number): void {
  for (let t = 0; t < D; t++) dst[ro + t] = src[ro + t];
}

function lowerOver(R: Float64Array, ro: number, d: number, box: Box): number {
  let v = R[ro + d];
  for (let t = 0; t < d; t++) {
    const w = R[ro + t];
    v += w > 0 ? w * box.lo[t] : w * box.hi[t];
  }
  return v;
}

function upperOver(R: Float64Array, ro: number, d: number, box: Box): number {
  let v = R[ro + d];
  for (let t = 0; t < d; t++) {
    const w = R[ro + t];
    v += w > 0 ? w * box.hi[t] : w * box.lo[t];
  }
  return v;
}
