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
import type { DiffPlan } from './diff-plan.ts';
import { relaxDelta, type DeltaRelax } from './diff-activation.ts';
import { addRowsPair, fDown, gather, liveDelta, liveF, placesOf } from './diff-live.ts';

/** A layer's g weights (on the live differences below) and E (on f's live activations below; null: E is sparse). */
interface LiveRows {
  g: Float64Array;
  e: Float64Array | null;
}

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
  /** per layer: the neurons whose activation difference is not exactly 0 (from its relaxation) */
  private readonly dLive: Int32Array[] = [];
  /** per layer l + 1: f's live neurons of layer l and their places; per layer: matrices on the live parts */
  private readonly fLiveAt: Int32Array[] = [];
  private readonly fPosAt: Int32Array[] = [];
  private readonly below: LiveRows[] = [];
  private readonly fW: Float64Array[] = [];

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
    this.dLive[k] = liveDelta(this.relax[k]);
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

  /** f's live neurons of layer l (l = -1: the inputs), their places, and layer l's matrices on the live ones. */
  private fLive(l: number): Int32Array {
    return (this.fLiveAt[l + 1] ??= liveF(this.plan.pair.f, this.fb, l));
  }

  private fPlaces(l: number): Int32Array {
    return (this.fPosAt[l + 1] ??= placesOf(this.fLive(l), this.plan.layers[l + 1].inp));
  }

  /** Layer l's g weights and E on the given rows, columns: the live differences / f's live activations below. */
  private rowsOf(l: number, rows: Int32Array): LiveRows {
    const P = this.plan.layers[l];
    const dense = P.eCols.length === P.inp;
    return {
      g: l > 0 ? gather(this.plan.pair.g.layers[l].weights, P.inp, rows, this.dLive[l - 1]) : new Float64Array(0),
      e: dense ? gather(P.E, P.inp, rows, this.fLive(l - 1)) : null,
    };
  }

  /** The same, on the rows of layer l's live differences (layer l below the tightened one), kept for the box. */
  private belowRows(l: number): LiveRows {
    return (this.below[l] ??= this.rowsOf(l, this.dLive[l]));
  }

  /** f's weights of layer l on its live neurons, columns: the live activations below. */
  private fWeights(l: number): Float64Array {
    return (this.fW[l] ??= gather(this.plan.pair.f.layers[l].weights, this.plan.layers[l].inp, this.fLive(l), this.fLive(l - 1)));
  }

  /**
   * Sound lower bounds of +D_(k,j) and -D_(k,j) for the listed neurons (interleaved). A: coefficients on the live
   * D of layer l (neurons `rows`); F: on f's live activations feeding layer l (the sources' E terms, carried down
   * through f's own relaxation so that sources of different layers and neurons are bounded jointly).
   */
  private lowerBounds(k: number, J: number[]): Float64Array {
    const { plan, box } = this;
    const { f } = plan.pair;
    const u = 2 * J.length;
    let rows: Int32Array = Int32Array.from(J);
    let m = rows.length;
    let A: Float64Array = new Float64Array(u * m);
    for (let i = 0; i < J.length; i++) {
      A[2 * i * m + i] = 1;
      A[(2 * i + 1) * m + i] = -1;
    }
    let F: Float64Array = new Float64Array(u * this.fLive(k - 1).length);
    const cst = new Float64Array(u);
    const mag = new Float64Array(u);
    const nzIdx = new Int32Array(Math.max(f.inputSize, ...plan.layers.map((P) => P.out)));
    for (let l = k; l >= 0; l--) {
      const P = plan.layers[l];
      const S = this.sources[l];
      const inp = P.inp;
      const nm = P.merged.length;
      const ec = P.eCols;
      const mats = l === k ? this.rowsOf(l, rows) : this.belowRows(l);
      const fc = this.fLive(l - 1);
      const nF = fc.length;
      const posF = mats.e ? null : this.fPlaces(l - 1);
      const H = new Float64Array(nm);
      let anyF = false;
      for (let r = 0; r < u; r++) {
        const ao = r * m;
        const fo = r * nF;
        let c = 0;
        let mg = 0;
        let err = 0;
        if (nm > 0) H.fill(0);
        let nz = 0;
        for (let p = 0; p < m; p++) {
          const a = A[ao + p];
          if (a === 0) continue;
          const j = rows[p];
          nzIdx[nz++] = p;
          c += a * P.bd[j];
          mg += Math.abs(a * P.bd[j]);
          err += Math.abs(a) * (P.bdErr[j] + S.eErr[j]);
          for (let t = 0; t < nm; t++) H[t] += a * P.rhoCoef[j * nm + t];
        }
        // F += E^T a: every column when all have residual weights (rounded copies: after this loop), else the listed
        if (!mats.e) {
          for (let q = 0; q < nz; q++) {
            const a = A[ao + nzIdx[q]];
            const row = rows[nzIdx[q]] * inp;
            for (let t = 0; t < ec.length; t++) {
              const at = posF![ec[t]];
              if (at >= 0) F[fo + at] += a * P.E[row + ec[t]];
            }
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
      }
      if (mats.e) for (let r = 0; r < u; r += 2) addRowsPair(F, r * nF, (r + 1) * nF, mats.e, nF, A, r * m, (r + 1) * m, m);
      for (let t = 0; t < u * nF && !anyF; t++) anyF = F[t] !== 0;
      if (l === 0) {
        // f's activations below layer 0 are the inputs (all live: F's places are the inputs)
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
      F = anyF ? fDown(f.layers[l - 1], this.fb[l - 1], this.fLive(l - 1), this.fWeights(l - 1), this.fLive(l - 2).length, F, u, cst, mag) : new Float64Array(u * this.fLive(l - 2).length);
      // the difference's part: through g's weights to layer l-1's live activation differences, then their relaxation
      const dc = this.dLive[l - 1];
      const nD = dc.length;
      const R = this.relax[l - 1];
      const B = new Float64Array(u * nD);
      for (let r = 0; r < u; r += 2) addRowsPair(B, r * nD, (r + 1) * nD, mats.g, nD, A, r * m, (r + 1) * m, m);
      for (let r = 0; r < u; r++) {
        const bo = r * nD;
        let c = 0;
        let mg = 0;
        for (let q = 0; q < nD; q++) {
          const b = B[bo + q];
          if (b === 0) continue;
          const t = dc[q];
          if (b > 0) {
            B[bo + q] = b * R.lamL[t];
            c += b * R.muL[t];
          } else {
            B[bo + q] = b * R.lamU[t];
            c += b * R.muU[t];
          }
          mg += Math.abs(b) * R.mag[t];
        }
        cst[r] += c;
        mag[r] += mg;
      }
      A = B;
      rows = dc;
      m = nD;
    }
    const out = new Float64Array(u);
    for (let r = 0; r < u; r++) out[r] = Number.isFinite(cst[r]) ? widenLo(cst[r], mag[r] * (k + 2)) : -Infinity;
    return out;
  }
}
