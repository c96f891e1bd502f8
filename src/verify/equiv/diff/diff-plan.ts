/**
 * The plan of a difference g - f (diff-bounds.ts): per layer, what depends on the two networks only, not on the box.
 * In f's coordinates, with s, c the reference scale / shift of g's neuron j (diff-pair.ts), the residual weights
 * E[j,q] = Wg[j,q] - s_j Wf[j,q] (the second part dropped for merged columns) - s_j sum_p alpha_p Wf[j,p], the bias
 * residual bd_j = b_g,j - s_j b_f,j - c_j, and the merge coefficients -s_j Wf[j,p]; each with a bound of its
 * rounding error, so that every bound built on the plan stays sound for any g. The interval, symbolic and backward
 * bounds all read it; it imports none of them.
 */
import type { AlignedPair } from './diff-pair.ts';

/** the unit roundoff of float64 */
export const U = 2 ** -53;

export interface LayerPlan {
  out: number;
  inp: number;
  E: Float64Array;
  Eerr: Float64Array;
  bd: Float64Array;
  bdErr: Float64Array;
  /** indices (in the layer below) of neurons merged into another one, and their targets and factors */
  merged: Int32Array;
  mergeTarget: Int32Array;
  mergeAlpha: Float64Array;
  /** out x merged.length: -s_j Wf[j,p] */
  rhoCoef: Float64Array;
  /** the columns of E or Eerr with a nonzero entry (the sources the backward bounds visit) */
  eCols: Int32Array;
}

export interface DiffPlan {
  pair: AlignedPair;
  layers: LayerPlan[];
}

/** Precomputes the residual matrices of a pair (depends on the networks only, not the box). */
export function planDifference(pair: AlignedPair): DiffPlan {
  return { pair, layers: pair.f.layers.map((_, k) => planLayer(pair, k)) };
}

function planLayer(pair: AlignedPair, k: number): LayerPlan {
  const Lf = pair.f.layers[k];
  const Lg = pair.g.layers[k];
  const out = Lf.outSize;
  const inp = Lf.inSize;
  const mergeInto = k > 0 ? pair.mergeInto[k - 1] : new Int32Array(inp).fill(-1);
  const mergeFac = k > 0 ? pair.mergeFactor[k - 1] : new Float64Array(inp);
  const mergedList = usableMerges(pair, k, mergeInto, mergeFac);
  const merged = Int32Array.from(mergedList);
  const isMerged = new Uint8Array(inp);
  for (const p of mergedList) isMerged[p] = 1;
  const E = new Float64Array(out * inp);
  const Eerr = new Float64Array(out * inp);
  const rhoCoef = new Float64Array(out * merged.length);
  const bd = new Float64Array(out);
  const bdErr = new Float64Array(out);
  const s = pair.refScale[k];
  const c = pair.refShift[k];
  for (let j = 0; j < out; j++) {
    const sj = s[j];
    residualRow(Lg.weights, Lf.weights, j, inp, sj, isMerged, E, Eerr);
    merged.forEach((p, m) => {
      const q = mergeInto[p];
      const t = sj * mergeFac[p] * Lf.weights[j * inp + p];
      E[j * inp + q] -= t;
      Eerr[j * inp + q] += (Math.abs(t) + Math.abs(E[j * inp + q])) * 6 * U;
      rhoCoef[j * merged.length + m] = -sj * Lf.weights[j * inp + p];
    });
    if (sj === 1 && c[j] === 0) {
      bd[j] = Lg.bias[j] - Lf.bias[j];
      bdErr[j] = 2 * U * Math.abs(bd[j]);
    } else {
      const t = sj * Lf.bias[j];
      bd[j] = Lg.bias[j] - t - c[j];
      bdErr[j] = (Math.abs(Lg.bias[j]) + Math.abs(t) + Math.abs(c[j]) + Math.abs(bd[j])) * 6 * U;
    }
  }
  const mergeTarget = Int32Array.from(mergedList.map((p) => mergeInto[p]));
  const mergeAlpha = Float64Array.from(mergedList.map((p) => mergeFac[p]));
  return { out, inp, E, Eerr, bd, bdErr, merged, mergeTarget, mergeAlpha, rhoCoef, eCols: sourceColumns(E, Eerr, out, inp) };
}

/** The merge hints of layer k's inputs that are used: only when both neurons have the same activation in f (then
 * rho is tightly bounded). */
function usableMerges(pair: AlignedPair, k: number, mergeInto: Int32Array, mergeFac: Float64Array): number[] {
  const below = k > 0 ? pair.f.layers[k - 1] : null;
  const list: number[] = [];
  for (let p = 0; p < mergeInto.length; p++) {
    const q = mergeInto[p];
    if (q >= 0 && below && below.relu[p] === below.relu[q] && mergeFac[p] > 0 && q !== p) list.push(p);
  }
  return list;
}

/** Row j of E and its rounding error, before the merges: g's weight (merged columns), or g's minus s_j f's. */
function residualRow(wgs: Float64Array, wfs: Float64Array, j: number, inp: number, sj: number, isMerged: Uint8Array, E: Float64Array, Eerr: Float64Array): void {
  for (let p = 0; p < inp; p++) {
    const wg = wgs[j * inp + p];
    const wf = wfs[j * inp + p];
    if (isMerged[p]) {
      E[j * inp + p] += wg;
      Eerr[j * inp + p] += Math.abs(wg) * 2 * U;
    } else if (sj === 1) {
      // one subtraction: error at most U |result| (0 when g copies f's weight exactly)
      const e = wg - wf;
      E[j * inp + p] += e;
      Eerr[j * inp + p] += 2 * U * Math.abs(e);
    } else {
      const t = sj * wf;
      const e = wg - t;
      E[j * inp + p] += e;
      Eerr[j * inp + p] += (Math.abs(t) + Math.abs(e)) * 2 * U;
    }
  }
}

/** The columns of E or Eerr with a nonzero entry, in order. */
function sourceColumns(E: Float64Array, Eerr: Float64Array, out: number, inp: number): Int32Array {
  const cols: number[] = [];
  for (let q = 0; q < inp; q++) {
    for (let j = 0; j < out; j++) {
      if (E[j * inp + q] !== 0 || Eerr[j * inp + q] !== 0) {
        cols.push(q);
        break;
      }
    }
  }
  return Int32Array.from(cols);
}
