/**
 * The activation difference a_g - a_f at one layer: the part that depends on f's pre-activation alone
 * (activationGap), and its linear relaxation in the pre-activation difference D (relaxDelta), which the symbolic
 * (diff-symbolic.ts) and backward (diff-backward.ts) difference bounds share.
 */
import type { NetworkBounds } from '../../../bounds/types.ts';
import { U, type DiffPlan } from './diff-plan.ts';

/** Range of act_g(s z + c) - act_f(z) for z in [l, u] (piecewise linear: check the breakpoints). */
export function activationGap(s: number, c: number, gRelu: boolean, fRelu: boolean, l: number, u: number): [number, number] {
  if (s === 1 && c === 0) {
    // exact, no rounding: z - relu(z) = min(z, 0) and relu(z) - z = max(-z, 0), both monotone
    if (gRelu === fRelu) return [0, 0];
    return gRelu ? [Math.max(-u, 0), Math.max(-l, 0)] : [Math.min(l, 0), Math.min(u, 0)];
  }
  const h = (z: number): number => {
    const v = s * z + c;
    return (gRelu ? Math.max(v, 0) : v) - (fRelu ? Math.max(z, 0) : z);
  };
  const pts = [l, u];
  if (l < 0 && u > 0) pts.push(0);
  if (s !== 0) {
    const b = -c / s;
    if (b > l && b < u) pts.push(b);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const z of pts) {
    const v = h(z);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const slack = (Math.abs(lo) + Math.abs(hi) + Math.abs(s) * Math.max(Math.abs(l), Math.abs(u)) + Math.abs(c)) * 8 * U;
  return [lo - slack, hi + slack];
}

/** delta_j between lamL D_j + muL and lamU D_j + muU; mag: the size of the terms (for outward rounding) */
export interface DeltaRelax {
  lamL: Float64Array;
  muL: Float64Array;
  lamU: Float64Array;
  muU: Float64Array;
  mag: Float64Array;
}

/** the chord above max(D, 0) over [d0, d1] (convex: the chord is the tightest linear upper bound) */
function chordMax(d0: number, d1: number): [number, number] {
  if (d1 <= 0) return [0, 0];
  if (d0 >= 0) return [1, 0];
  const lam = d1 / (d1 - d0);
  return [lam, -lam * d0];
}

/** the chord below min(D, 0) over [d0, d1] (concave) */
function chordMin(d0: number, d1: number): [number, number] {
  if (d0 >= 0) return [0, 0];
  if (d1 <= 0) return [1, 0];
  const lam = -d0 / (d1 - d0);
  return [lam, -lam * d1];
}

/**
 * Linear bounds of layer k's activation difference in terms of D, given f's pre-activation bounds and D's bounds:
 * a_g - a_f = [act_g(v) - act_f(z)] + [act_g(v + D) - act_g(v)] with v = s z + c the reference; the first part is an
 * interval in z (activationGap), the second e = relu(v + D) - relu(v) for a ReLU in g (D itself otherwise), by cases
 * on the sign of v and of v + D.
 */
export function relaxDelta(plan: DiffPlan, k: number, fb: NetworkBounds, dLo: Float64Array, dHi: Float64Array): DeltaRelax {
  const Lf = plan.pair.f.layers[k];
  const Lg = plan.pair.g.layers[k];
  const s = plan.pair.refScale[k];
  const c = plan.pair.refShift[k];
  const out = Lf.outSize;
  const r: DeltaRelax = {
    lamL: new Float64Array(out),
    muL: new Float64Array(out),
    lamU: new Float64Array(out),
    muU: new Float64Array(out),
    mag: new Float64Array(out),
  };
  for (let j = 0; j < out; j++) {
    const fr = Lf.relu[j] === 1;
    const gr = Lg.relu[j] === 1;
    const l = fb[k].lo[j];
    const u = fb[k].hi[j];
    const d0 = dLo[j];
    const d1 = dHi[j];
    let h0 = 0;
    let h1 = 0;
    let vl = l;
    let vu = u;
    if (!(s[j] === 1 && c[j] === 0 && fr === gr)) {
      [h0, h1] = activationGap(s[j], c[j], gr, fr, l, u);
      const v0 = s[j] * l + c[j];
      const v1 = s[j] * u + c[j];
      const slack = (Math.abs(v0) + Math.abs(v1)) * 4 * U;
      vl = Math.min(v0, v1) - slack;
      vu = Math.max(v0, v1) + slack;
    }
    let lo: [number, number];
    let hi: [number, number];
    if (!gr || (vl >= 0 && vl + d0 >= 0)) lo = hi = [1, 0];
    else if (vu <= 0 && vu + d1 <= 0) lo = hi = [0, 0];
    else if (vl >= 0) {
      // e = max(D, -v) with -v <= 0
      lo = [1, 0];
      hi = chordMax(d0, d1);
    } else if (vu <= 0) {
      // e = relu(v + D) with v <= vu: between 0 and relu(vu + D)
      lo = [0, 0];
      const [lam, mu] = chordMax(vu + d0, vu + d1);
      hi = [lam, mu + lam * vu];
    } else {
      lo = chordMin(d0, d1);
      hi = chordMax(d0, d1);
    }
    r.lamL[j] = lo[0];
    r.muL[j] = lo[1] + h0;
    r.lamU[j] = hi[0];
    r.muU[j] = hi[1] + h1;
    r.mag[j] = Math.abs(r.muL[j]) + Math.abs(r.muU[j]) + Math.abs(h0) + Math.abs(h1) + 2 * Math.max(Math.abs(d0), Math.abs(d1));
  }
  return r;
}

