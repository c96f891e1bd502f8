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
import type { Layer } from '../../../model/network.ts';
import type { NetworkBounds } from '../../../bounds/types.ts';
import { SymbolicDifference } from './diff-symbolic.ts';
import { BackwardDifference } from './diff-backward.ts';
import { activationGap } from './diff-activation.ts';
import { U, type DiffPlan, type LayerPlan } from './diff-plan.ts';

// the plan moved to diff-plan.ts (the symbolic and backward bounds read it too); its old home still names it
export { planDifference, type DiffPlan } from './diff-plan.ts';

/** absolute slack added to every difference bound (covers underflow) */
export const DIFF_ABS_SLACK = 1e-300;

export interface DiffBounds {
  /** per layer: bounds of D (g's pre-activation minus its reference), the last layer's is exactly g - f */
  lo: Float64Array[];
  hi: Float64Array[];
}

/** Which bounds differenceBounds combines (see there). */
export interface DiffHow {
  symbolic?: boolean;
  backward?: boolean;
  hidden?: boolean;
}

/** Bounds of a layer's post-activations: f's (a) and the activation difference a_g - a_f (d). */
interface Activations {
  aLo: Float64Array;
  aHi: Float64Array;
  dLo: Float64Array;
  dHi: Float64Array;
}

/**
 * Bounds of g - f over `box`, given f's pre-activation bounds on that box (sound, outward rounded), by interval
 * arithmetic, and where asked also by `symbolic` (D as linear functions of the input, diff-symbolic.ts; for few
 * inputs) and `backward` bounds (diff-backward.ts; the outputs only), keeping the tightest at every layer.
 */
export function differenceBounds(plan: DiffPlan, box: Box, fb: NetworkBounds, how: DiffHow = {}): DiffBounds {
  const sym = how.symbolic ? new SymbolicDifference(plan, box, fb) : null;
  const back = how.backward ? new BackwardDifference(plan, box, fb) : null;
  const { f, g } = plan.pair;
  const last = f.layers.length - 1;
  const lo: Float64Array[] = [];
  const hi: Float64Array[] = [];
  // post-activation bounds of f and of (a_g - a_f) for the layer below, and those of the layer below that
  let act: Activations = { aLo: box.lo, aHi: box.hi, dLo: new Float64Array(f.inputSize), dHi: new Float64Array(f.inputSize) };
  let below: Activations | null = null;
  for (let k = 0; k <= last; k++) {
    const P = plan.layers[k];
    const { rLo, rHi } = mergeResiduals(P, k > 0 ? f.layers[k - 1] : null, below);
    const { DLo, DHi } = intervalDifference(P, g.layers[k], act, rLo, rHi);
    if (sym) tighten(DLo, DHi, sym.layer(k, rLo, rHi));
    if (back) {
      back.setSources(k, act.aLo, act.aHi, rLo, rHi);
      if (k === last) back.tightenOutputs(k, DLo, DHi);
      else if (how.hidden && k > 0) back.tightenOutputs(k, DLo, DHi, (j) => !exactDelta(plan, k, fb, DLo[j], DHi[j], j));
    }
    lo.push(DLo);
    hi.push(DHi);
    if (k === last) break;
    sym?.activate(k, DLo, DHi);
    back?.activate(k, DLo, DHi);
    below = act;
    act = activationDifference(plan, k, fb, DLo, DHi);
  }
  return { lo, hi };
}

/**
 * Whether neuron j's activation difference is exactly linear in D at layer k (both networks' phases fixed), so that
 * a tighter bound of D changes nothing downstream but the interval bounds.
 */
function exactDelta(plan: DiffPlan, k: number, fb: NetworkBounds, d0: number, d1: number, j: number): boolean {
  const fr = plan.pair.f.layers[k].relu[j] === 1;
  const gr = plan.pair.g.layers[k].relu[j] === 1;
  if (!fr && !gr) return true;
  if (plan.pair.refScale[k][j] !== 1 || plan.pair.refShift[k][j] !== 0 || fr !== gr) return false;
  const l = fb[k].lo[j];
  const u = fb[k].hi[j];
  return (l >= 0 && l + d0 >= 0) || (u <= 0 && u + d1 <= 0);
}

/** [DLo, DHi] intersected with r. */
function tighten(DLo: Float64Array, DHi: Float64Array, r: { lo: Float64Array; hi: Float64Array }): void {
  for (let j = 0; j < DLo.length; j++) {
    if (r.lo[j] > DLo[j]) DLo[j] = r.lo[j];
    if (r.hi[j] < DHi[j]) DHi[j] = r.hi[j];
  }
}

/**
 * Bounds of the merge residuals rho_p = a_f,p - alpha a_f,q of the layer below's merged neurons (Lb: f's layer
 * below), from f's activations feeding Lb (`below`); unbounded without them.
 */
function mergeResiduals(P: LayerPlan, Lb: Layer | null, below: Activations | null): { rLo: Float64Array; rHi: Float64Array } {
  const nm = P.merged.length;
  const rLo = new Float64Array(nm);
  const rHi = new Float64Array(nm);
  if (nm > 0 && Lb && below) {
    for (let m = 0; m < nm; m++) {
      const p = P.merged[m];
      const [l, h] = residualRange(Lb, p, P.mergeTarget[m], P.mergeAlpha[m], below.aLo, below.aHi);
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
  return { rLo, rHi };
}

/** Outward-rounded range of z_p - alpha z_q (Lb's pre-activations) for inputs in [xLo, xHi]. */
function residualRange(Lb: Layer, p: number, q: number, al: number, xLo: Float64Array, xHi: Float64Array): [number, number] {
  const n2 = Lb.inSize;
  let l = Lb.bias[p] - al * Lb.bias[q];
  let h = l;
  let mag = Math.abs(Lb.bias[p]) + Math.abs(al * Lb.bias[q]);
  for (let t = 0; t < n2; t++) {
    const w = Lb.weights[p * n2 + t] - al * Lb.weights[q * n2 + t];
    const wm = Math.abs(Lb.weights[p * n2 + t]) + Math.abs(al * Lb.weights[q * n2 + t]);
    const x0 = xLo[t];
    const x1 = xHi[t];
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
  return [l - slack, h + slack];
}

/** Interval bounds of layer k's D, row by row. */
function intervalDifference(P: LayerPlan, Lg: Layer, act: Activations, rLo: Float64Array, rHi: Float64Array): { DLo: Float64Array; DHi: Float64Array } {
  const DLo = new Float64Array(P.out);
  const DHi = new Float64Array(P.out);
  for (let j = 0; j < P.out; j++) rowDifference(P, Lg, j, act, rLo, rHi, DLo, DHi);
  return { DLo, DHi };
}

/** Row j of D: bd, g's weights on the difference below, E on f's activations, the rho terms, widened outward. */
function rowDifference(P: LayerPlan, Lg: Layer, j: number, act: Activations, rLo: Float64Array, rHi: Float64Array, DLo: Float64Array, DHi: Float64Array): void {
  const { inp } = P;
  const nm = P.merged.length;
  let l = P.bd[j] - P.bdErr[j];
  let h = P.bd[j] + P.bdErr[j];
  let mag = Math.abs(P.bd[j]) + P.bdErr[j];
  const row = j * inp;
  for (let q = 0; q < inp; q++) {
    const w = Lg.weights[row + q];
    if (w !== 0) {
      const d0 = act.dLo[q];
      const d1 = act.dHi[q];
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
    const x0 = act.aLo[q];
    const x1 = act.aHi[q];
    if ((e !== 0 || ee !== 0) && (x0 !== 0 || x1 !== 0)) {
      const e0 = e - ee;
      const e1 = e + ee;
      if (x0 >= 0) {
        // an activation (x >= 0): the product grows with e, so the ends are e0 and e1 (the same products as below)
        l += e0 >= 0 ? e0 * x0 : e0 * x1;
        h += e1 >= 0 ? e1 * x1 : e1 * x0;
        mag += Math.max(Math.abs(e0), Math.abs(e1)) * x1;
      } else {
        const p00 = e0 * x0;
        const p01 = e0 * x1;
        const p10 = e1 * x0;
        const p11 = e1 * x1;
        l += Math.min(p00, p01, p10, p11);
        h += Math.max(p00, p01, p10, p11);
        mag += Math.max(Math.abs(e0), Math.abs(e1)) * Math.max(Math.abs(x0), Math.abs(x1));
      }
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

/** Post-activation bounds of layer k: f's, and of the activation difference a_g - a_f given D in [DLo, DHi]. */
function activationDifference(plan: DiffPlan, k: number, fb: NetworkBounds, DLo: Float64Array, DHi: Float64Array): Activations {
  const Lf = plan.pair.f.layers[k];
  const Lg = plan.pair.g.layers[k];
  const zl = fb[k].lo;
  const zh = fb[k].hi;
  const s = plan.pair.refScale[k];
  const c = plan.pair.refShift[k];
  const out = Lf.outSize;
  const next: Activations = { aLo: new Float64Array(out), aHi: new Float64Array(out), dLo: new Float64Array(out), dHi: new Float64Array(out) };
  for (let j = 0; j < out; j++) {
    const fr = Lf.relu[j] === 1;
    const gr = Lg.relu[j] === 1;
    const l = zl[j];
    const u = zh[j];
    next.aLo[j] = fr ? Math.max(l, 0) : l;
    next.aHi[j] = fr ? Math.max(u, 0) : u;
    const [d0, d1] = [DLo[j], DHi[j]];
    if (s[j] === 1 && c[j] === 0 && fr === gr) {
      [next.dLo[j], next.dHi[j]] = sameActivationDelta(fr, l, u, d0, d1);
    } else {
      // a_g - a_f = [act_g(s z + c) - act_f(z)] + [act_g(s z + c + D) - act_g(s z + c)]
      const [h0, h1] = activationGap(s[j], c[j], gr, fr, l, u);
      const e0 = gr ? Math.min(d0, 0) : d0;
      const e1 = gr ? Math.max(d1, 0) : d1;
      // one addition each: rounding at most U of the result
      next.dLo[j] = h0 + e0 - Math.abs(h0 + e0) * 2 * U;
      next.dHi[j] = h1 + e1 + Math.abs(h1 + e1) * 2 * U;
    }
  }
  return next;
}

/** act(z + D) - act(z) for the same activation in f and g (no scale or shift), z in [l, u], D in [d0, d1]. */
function sameActivationDelta(relu: boolean, l: number, u: number, d0: number, d1: number): [number, number] {
  if (!relu) return [d0, d1];
  if (l >= 0 && l + d0 >= 0) return [d0, d1];
  if (u <= 0 && u + d1 <= 0) return [0, 0];
  return [Math.min(d0, 0), Math.max(d1, 0)];
}

/** Largest |g - f| bound over all outputs. */
export function maxAbsOutputDiff(d: DiffBounds): number {
  const last = d.lo.length - 1;
  let m = 0;
  for (let i = 0; i < d.lo[last].length; i++) m = Math.max(m, -d.lo[last][i], d.hi[last][i]);
  return m;
}
