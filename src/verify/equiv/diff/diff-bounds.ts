/**
 * Bounds on the difference g - f of an aligned pair over a box, layer by layer.
 *
 * In f's coordinates, with s, c the reference scale/shift of g's neuron j and a the post-activations:
 *   D_j := z_g,j - (s_j z_f,j + c_j)
 *       = sum_q Wg[j,q] (a_g,q - a_f,q)                       (difference carried from the layer below)
 *       + sum_q E[j,q] a_f,q                                  (residual weights, ~0 where g copies f)
 *       + sum_{p merged into q} (-s_j Wf[j,p]) rho_p          (merge residual, rho_p = a_f,p - alpha_p a_f,q)
 *       + (b_g,j - s_j b_f,j - c_j)
 * where E[j,q] = Wg[j,q] - s_j Wf[j,q] (that second part is dropped for merged columns) - s_j sum_p alpha_p Wf[j,p].
 * Every term is bounded with interval arithmetic using f's own bounds on the box, and the sum is widened outward for
 * floating-point error, so the result is sound for any g; the hints only decide how tight it is.
 */
import type { Box } from '../../../model/box.ts';
import type { NetworkBounds } from '../../../bounds/types.ts';
import type { AlignedPair } from './diff-pair.ts';
import { SymbolicDifference } from './diff-symbolic.ts';
import { BackwardDifference } from './diff-backward.ts';
import { activationGap, U } from './diff-activation.ts';

/** absolute slack added to every difference bound (covers underflow) */
export const DIFF_ABS_SLACK = 1e-300;

interface LayerPlan {
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
  const { f, g } = pair;
  const layers: LayerPlan[] = f.layers.map((Lf, k) => {
    const Lg = g.layers[k];
    const out = Lf.outSize;
    const inp = Lf.inSize;
    const s = pair.refScale[k];
    const c = pair.refShift[k];
    const mergeInto = k > 0 ? pair.mergeInto[k - 1] : new Int32Array(inp).fill(-1);
    const mergeFac = k > 0 ? pair.mergeFactor[k - 1] : new Float64Array(inp);
    // A merge hint is only used when both neurons have the same activation in f (then rho is tightly bounded).
    const below = k > 0 ? f.layers[k - 1] : null;
    const mergedList: number[] = [];
    for (let p = 0; p < inp; p++) {
      const q = mergeInto[p];
      if (q >= 0 && below && below.relu[p] === below.relu[q] && mergeFac[p] > 0 && q !== p) mergedList.push(p);
    }
    const merged = Int32Array.from(mergedList);
    const isMerged = new Uint8Array(inp);
    for (const p of mergedList) isMerged[p] = 1;
    const E = new Float64Array(out * inp);
    const Eerr = new Float64Array(out * inp);
    const rhoCoef = new Float64Array(out * merged.length);
    const bd = new Float64Array(out);
    const bdErr = new Float64Array(out);
    for (let j = 0; j < out; j++) {
      const sj = s[j];
      for (let p = 0; p < inp; p++) {
        const wg = Lg.weights[j * inp + p];
        const wf = Lf.weights[j * inp + p];
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
    const cols: number[] = [];
    for (let q = 0; q < inp; q++) {
      for (let j = 0; j < out; j++) {
        if (E[j * inp + q] !== 0 || Eerr[j * inp + q] !== 0) {
          cols.push(q);
          break;
        }
      }
    }
    return { out, inp, E, Eerr, bd, bdErr, merged, mergeTarget, mergeAlpha, rhoCoef, eCols: Int32Array.from(cols) };
  });
  return { pair, layers };
}

export interface DiffBounds {
  /** per layer: bounds of D (g's pre-activation minus its reference), the last layer's is exactly g - f */
  lo: Float64Array[];
  hi: Float64Array[];
}

/**
 * Bounds of g - f over `box`, given f's pre-activation bounds on that box (sound, outward rounded), by interval
 * arithmetic, and where asked also by `symbolic` (D as linear functions of the input, diff-symbolic.ts; for few
 * inputs) and `backward` bounds (diff-backward.ts; the outputs only), keeping the tightest at every layer.
 */
export function differenceBounds(plan: DiffPlan, box: Box, fb: NetworkBounds, how: { symbolic?: boolean; backward?: boolean } = {}): DiffBounds {
  const sym = how.symbolic ? new SymbolicDifference(plan, box, fb) : null;
  const back = how.backward ? new BackwardDifference(plan, box, fb) : null;
  const { f, g } = plan.pair;
  const lo: Float64Array[] = [];
  const hi: Float64Array[] = [];
  // post-activation bounds of f and of (a_g - a_f) for the layer below
  let aLo: Float64Array = box.lo;
  let aHi: Float64Array = box.hi;
  let dLo = new Float64Array(f.inputSize);
  let dHi = new Float64Array(f.inputSize);
  let aLoBelow: Float64Array | null = null;
  let aHiBelow: Float64Array | null = null;
  for (let k = 0; k < f.layers.length; k++) {
    const P = plan.layers[k];
    const Lg = g.layers[k];
    const { out, inp } = P;
    // merge residuals rho_p = a_f,p - alpha a_f,q for merged neurons of the layer below
    const nm = P.merged.length;
    const rLo = new Float64Array(nm);
    const rHi = new Float64Array(nm);
    if (nm > 0 && aLoBelow && aHiBelow) {
      const Lb = f.layers[k - 1];
      const n2 = Lb.inSize;
      for (let m = 0; m < nm; m++) {
        const p = P.merged[m];
        const q = P.mergeTarget[m];
        const al = P.mergeAlpha[m];
        let l = Lb.bias[p] - al * Lb.bias[q];
        let h = l;
        let mag = Math.abs(Lb.bias[p]) + Math.abs(al * Lb.bias[q]);
        for (let t = 0; t < n2; t++) {
          const w = Lb.weights[p * n2 + t] - al * Lb.weights[q * n2 + t];
          const wm = Math.abs(Lb.weights[p * n2 + t]) + Math.abs(al * Lb.weights[q * n2 + t]);
          const x0 = aLoBelow[t];
          const x1 = aHiBelow[t];
          if (w >= 0) {
            l += w * x0;
            h += w * x1;
          } else {
            l += w * x1;
            h += w * x0;
          }
          mag += wm * Math.max(Math.abs(x0), Math.abs(x1));
        }
        const slack = mag * (n2 + 8) * 2 * U + DIFF_ABS_SLACK;
        l -= slack;
        h += slack;
        // relu(alpha z_q + r) - relu(alpha z_q) lies between min(r,0) and max(r,0); identity passes r through
        if (Lb.relu[p]) {
          rLo[m] = Math.min(l, 0);
          rHi[m] = Math.max(h, 0);
        } else {
          rLo[m] = l;
          rHi[m] = h;
        }
      }
    } else if (nm > 0) {
      rLo.fill(-Infinity);
      rHi.fill(Infinity);
    }
    const DLo = new Float64Array(out);
    const DHi = new Float64Array(out);
    for (let j = 0; j < out; j++) {
      let l = P.bd[j] - P.bdErr[j];
      let h = P.bd[j] + P.bdErr[j];
      let mag = Math.abs(P.bd[j]) + P.bdErr[j];
      const row = j * inp;
      for (let q = 0; q < inp; q++) {
        const w = Lg.weights[row + q];
        if (w !== 0) {
          const d0 = dLo[q];
          const d1 = dHi[q];
          if (w > 0) {
            l += w * d0;
            h += w * d1;
          } else {
            l += w * d1;
            h += w * d0;
          }
          mag += Math.abs(w) * Math.max(Math.abs(d0), Math.abs(d1));
        }
        const e = P.E[row + q];
        const ee = P.Eerr[row + q];
        if (e !== 0 || ee !== 0) {
          const x0 = aLo[q];
          const x1 = aHi[q];
          const e0 = e - ee;
          const e1 = e + ee;
          const p00 = e0 * x0;
          const p01 = e0 * x1;
          const p10 = e1 * x0;
          const p11 = e1 * x1;
          l += Math.min(p00, p01, p10, p11);
          h += Math.max(p00, p01, p10, p11);
          mag += Math.max(Math.abs(e0), Math.abs(e1)) * Math.max(Math.abs(x0), Math.abs(x1));
        }
      }
      for (let m = 0; m < nm; m++) {
        const cf = P.rhoCoef[j * nm + m];
        if (cf === 0) continue;
        const r0 = rLo[m];
        const r1 = rHi[m];
        if (cf > 0) {
          l += cf * r0;
          h += cf * r1;
        } else {
          l += cf * r1;
          h += cf * r0;
        }
        mag += Math.abs(cf) * Math.max(Math.abs(r0), Math.abs(r1));
      }
      const slack = mag * (inp + nm + 8) * 2 * U + DIFF_ABS_SLACK;
      DLo[j] = l - slack;
      DHi[j] = h + slack;
    }
    if (sym) {
      const r = sym.layer(k, rLo, rHi);
      for (let j = 0; j < out; j++) {
        if (r.lo[j] > DLo[j]) DLo[j] = r.lo[j];
        if (r.hi[j] < DHi[j]) DHi[j] = r.hi[j];
      }
    }
    if (back) {
      back.setSources(k, aLo, aHi, rLo, rHi);
      if (k === f.layers.length - 1) back.tightenOutputs(k, DLo, DHi);
    }
    lo.push(DLo);
    hi.push(DHi);
    if (k === f.layers.length - 1) break;
    sym?.activate(k, DLo, DHi);
    back?.activate(k, DLo, DHi);
    // post-activation bounds of f and of the activation difference for this layer
    const Lf = f.layers[k];
    const zl = fb[k].lo;
    const zh = fb[k].hi;
    const s = plan.pair.refScale[k];
    const c = plan.pair.refShift[k];
    const nLo = new Float64Array(out);
    const nHi = new Float64Array(out);
    const ndLo = new Float64Array(out);
    const ndHi = new Float64Array(out);
    for (let j = 0; j < out; j++) {
      const fr = Lf.relu[j] === 1;
      const gr = Lg.relu[j] === 1;
      const l = zl[j];
      const u = zh[j];
      nLo[j] = fr ? Math.max(l, 0) : l;
      nHi[j] = fr ? Math.max(u, 0) : u;
      const d0 = DLo[j];
      const d1 = DHi[j];
      if (s[j] === 1 && c[j] === 0 && fr === gr) {
        if (!fr) {
          ndLo[j] = d0;
          ndHi[j] = d1;
        } else if (l >= 0 && l + d0 >= 0) {
          ndLo[j] = d0;
          ndHi[j] = d1;
        } else if (u <= 0 && u + d1 <= 0) {
          ndLo[j] = 0;
          ndHi[j] = 0;
        } else {
          ndLo[j] = Math.min(d0, 0);
          ndHi[j] = Math.max(d1, 0);
        }
      } else {
        // a_g - a_f = [act_g(s z + c) - act_f(z)] + [act_g(s z + c + D) - act_g(s z + c)]
        const [h0, h1] = activationGap(s[j], c[j], gr, fr, l, u);
        const e0 = gr ? Math.min(d0, 0) : d0;
        const e1 = gr ? Math.max(d1, 0) : d1;
        // one addition each: rounding at most U of the result
        ndLo[j] = h0 + e0 - Math.abs(h0 + e0) * 2 * U;
        ndHi[j] = h1 + e1 + Math.abs(h1 + e1) * 2 * U;
      }
    }
    aLoBelow = aLo;
    aHiBelow = aHi;
    aLo = nLo;
    aHi = nHi;
    dLo = ndLo;
    dHi = ndHi;
  }
  return { lo, hi };
}

/** Largest |g - f| bound over all outputs. */
export function maxAbsOutputDiff(d: DiffBounds): number {
  const last = d.lo.length - 1;
  let m = 0;
  for (let i = 0; i < d.lo[last].length; i++) m = Math.max(m, -d.lo[last][i], d.hi[last][i]);
  return m;
}
