/**
 * Backward (CROWN-style) bounds of the output difference D (diff-bounds.ts): with many inputs, where the difference
 * cannot be carried as functions of the input, and with few next to the symbolic difference (tighter at the outputs:
 * see equiv.ts boxDiff). D at layer k is written back, layer by layer, through
 *   D_l = Wg_l delta_(l-1) + E_l a_f,(l-1) + rho-terms + bd_l,     delta = a_g - a_f relaxed linearly in D,
 * down to layer 0 (where delta is 0: both networks see the same input). f's activations, where they enter as
 * sources, are carried down through f's own relaxation to the input (CROWN's), the merge residuals enter as
 * intervals; every coefficient is summed over all paths before anything is bounded, so the cancellation between
 * paths that interval arithmetic loses layer after layer is kept: on MNIST 256x2 with five neurons removed the
 * bound of the output difference is 0.97 instead of 2.06, on 256x4 with 20 removed 639 instead of 1,101.
 * Cost: 2 x outputs x (n_l x n_(l-1)) per layer below, a few times the interval bounds' (the hidden layers keep
 * their interval bounds, see tightenOutputs).
 */
import type { Box } from '../../../model/box.ts';
import type { NetworkBounds } from '../../../bounds/types.ts';
import { widenLo } from '../../../bounds/round.ts';
import { addRows } from '../../../bounds/backward.ts';
import type { DiffPlan } from './diff-plan.ts';
import { relaxDelta, type DeltaRelax } from './diff-activation.ts';

/** Where the layer's sources stand on the box: f's activations feeding it, merge residuals, rounding of E. */
interface LayerSources {
  aLo: Float64Array;
  aHi: Float64Array;
  rLo: Float64Array;
  rHi: Float64Array;
  /** per neuron j: sum_q Eerr[j,q] max|a_q| */
  eErr: Float64Array;
}

export class BackwardDifference {
  private readonly sources: LayerSources[] = [];
  private readonly relax: DeltaRelax[] = [];

  constructor(
    private readonly plan: DiffPlan,
    private readonly box: Box,
    private readonly fb: NetworkBounds,
  ) {}

  /** Layer k's sources (called in layer order, before tighten(k)). */
  setSources(k: number, aLo: Float64Array, aHi: Float64Array, rLo: Float64Array, rHi: Float64Array): void {
    const P = this.plan.layers[k];
    const eErr = new Float64Array(P.out);
    for (const q of P.eCols) {
      const amax = Math.max(Math.abs(aLo[q]), Math.abs(aHi[q]));
      for (let j = 0; j < P.out; j++) eErr[j] += P.Eerr[j * P.inp + q] * amax;
    }
    this.sources[k] = { aLo, aHi, rLo, rHi, eErr };
  }

  /** Layer k's activation difference relaxed from the final bounds of its D (called before tighten(k + 1)). */
  activate(k: number, dLo: Float64Array, dHi: Float64Array): void {
    this.relax[k] = relaxDelta(this.plan, k, this.fb, dLo, dHi);
  }

  /**
   * Tightens [lo, hi] (D at the output layer k) in place. Only the outputs: tightening every hidden layer's
   * inexact neurons too was 1.4 times tighter on MNIST 256x4 with 20 neurons removed (a bound of 454 against 639;
   * intervals alone: 1,101) for 20 times the time (470 ms against 20 ms), and the tolerance search, whose queries
   * are short, proved fewer changes with it (MNIST 256x2 prop_1_0.03, epsilon 0.5: 67 queries in its budget
   * instead of 173).
   */
  tightenOutputs(k: number, lo: Float64Array, hi: Float64Array, only?: (j: number) => boolean): void {
    const J: number[] = [];
    for (let j = 0; j < lo.length; j++) if (hi[j] - lo[j] > 1e-12 && (!only || only(j))) J.push(j);
    if (!J.length || k === 0) return;
    const low = this.lowerBounds(k, J);
    J.forEach((j, i) => {
      const l = low[2 * i];
      const h = -low[2 * i + 1];
      if (l > lo[j]) lo[j] = l;
      if (h < hi[j]) hi[j] = h;
    });
  }

  /** Sound lower bounds of +D_(k,j) and -D_(k,j) for the listed neurons (interleaved). */
  private lowerBounds(k: number, J: number[]): Float64Array {
    const { plan, fb, box } = this;
    const { f, g } = plan.pair;
    const u = 2 * J.length;
    let m = plan.layers[k].out;
    // A: coefficients on D of layer l; F: on f's activations feeding layer l (the sources' E terms, carried down
    // through f's own relaxation so that sources of different layers and neurons are bounded jointly)
    let A = new Float64Array(u * m);
    let F = new Float64Array(u * plan.layers[k].inp);
    J.forEach((j, i) => {
      A[2 * i * m + j] = 1;
      A[(2 * i + 1) * m + j] = -1;
    });
    const cst = new Float64Array(u);
    const mag = new Float64Array(u);
    const nzIdx = new Int32Array(Math.max(f.inputSize, ...plan.layers.map((P) => P.out)));
    for (let l = k; l >= 0; l--) {
      const P = plan.layers[l];
      const S = this.sources[l];
      const inp = P.inp;
      const nm = P.merged.length;
      const ec = P.eCols;
      const H = new Float64Array(nm);
      let anyF = false;
      for (let r = 0; r < u; r++) {
        const ao = r * m;
        const fo = r * inp;
        let c = 0;
        let mg = 0;
        let err = 0;
        if (nm > 0) H.fill(0);
        let nz = 0;
        for (let j = 0; j < m; j++) {
          const a = A[ao + j];
          if (a === 0) continue;
          nzIdx[nz++] = j;
          c += a * P.bd[j];
          mg += Math.abs(a * P.bd[j]);
          err += Math.abs(a) * (P.bdErr[j] + S.eErr[j]);
          for (let t = 0; t < nm; t++) H[t] += a * P.rhoCoef[j * nm + t];
        }
        // F += E^T a: every column when all have residual weights (rounded copies), else the listed ones
        if (ec.length === inp) addRows(F, fo, P.E, inp, A, ao, nzIdx, nz);
        else {
          for (let q = 0; q < nz; q++) {
            const j = nzIdx[q];
            const a = A[ao + j];
            const row = j * inp;
            for (let t = 0; t < ec.length; t++) F[fo + ec[t]] += a * P.E[row + ec[t]];
          }
        }
        for (let t = 0; t < nm; t++) {
          const w = H[t];
          if (w === 0) continue;
          c += w > 0 ? w * S.rLo[t] : w * S.rHi[t];
          mg += Math.abs(w) * Math.max(Math.abs(S.rLo[t]), Math.abs(S.rHi[t]));
        }
        cst[r] += c - err;
        mag[r] += mg + err;
        if (!anyF) for (let t = 0; t < inp && !anyF; t++) anyF = F[fo + t] !== 0;
      }
      if (l === 0) {
        // f's activations below layer 0 are the inputs
        for (let r = 0; r < u; r++) {
          let c = 0;
          let mg = 0;
          for (let t = 0; t < inp; t++) {
            const w = F[r * inp + t];
            if (w === 0) continue;
            c += w > 0 ? w * box.lo[t] : w * box.hi[t];
            mg += Math.abs(w) * Math.max(Math.abs(box.lo[t]), Math.abs(box.hi[t]));
          }
          cst[r] += c;
          mag[r] += mg;
        }
        break;
      }
      const below = plan.layers[l - 1].inp;
      // f's part: through f's activation of layer l-1 (CROWN's relaxation) and its affine map
      const Fn = new Float64Array(u * below);
      if (anyF) {
        const Lf = f.layers[l - 1];
        const zl = fb[l - 1].lo;
        const zh = fb[l - 1].hi;
        for (let r = 0; r < u; r++) {
          const fo = r * inp;
          let c = 0;
          let mg = 0;
          let nz = 0;
          for (let t = 0; t < inp; t++) {
            let w = F[fo + t];
            if (w === 0) continue;
            if (Lf.relu[t]) {
              const lo = zl[t];
              const hi = zh[t];
              if (hi <= 0) w = 0;
              else if (lo < 0) {
                if (w < 0) {
                  // the chord above relu over [lo, hi]
                  const lam = hi / (hi - lo);
                  c -= w * lam * lo;
                  mg += Math.abs(w * lam * lo);
                  w *= lam;
                } else if (!(hi > -lo)) w = 0;
              }
            }
            F[fo + t] = w;
            if (w === 0) continue;
            c += w * Lf.bias[t];
            mg += Math.abs(w * Lf.bias[t]);
            nzIdx[nz++] = t;
          }
          addRows(Fn, r * below, Lf.weights, below, F, fo, nzIdx, nz);
          cst[r] += c;
          mag[r] += mg;
        }
      }
      // the difference's part: through g's weights to layer l-1's activation difference, then its relaxation
      const W = g.layers[l].weights;
      const R = this.relax[l - 1];
      const B = new Float64Array(u * inp);
      for (let r = 0; r < u; r++) {
        const ao = r * m;
        let nz = 0;
        for (let j = 0; j < m; j++) if (A[ao + j] !== 0) nzIdx[nz++] = j;
        addRows(B, r * inp, W, inp, A, ao, nzIdx, nz);
        const bo = r * inp;
        let c = 0;
        let mg = 0;
        for (let t = 0; t < inp; t++) {
          const b = B[bo + t];
          if (b === 0) continue;
          if (b > 0) {
            B[bo + t] = b * R.lamL[t];
            c += b * R.muL[t];
          } else {
            B[bo + t] = b * R.lamU[t];
            c += b * R.muU[t];
          }
          mg += Math.abs(b) * R.mag[t];
        }
        cst[r] += c;
        mag[r] += mg;
      }
      A = B;
      m = inp;
      F = Fn;
    }
    const out = new Float64Array(u);
    for (let r = 0; r < u; r++) out[r] = Number.isFinite(cst[r]) ? widenLo(cst[r], mag[r] * (k + 2)) : -Infinity;
    return out;
  }
}
