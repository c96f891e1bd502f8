/**
 * Clip (ReLU6 and friends): y = min(max(x, min), max). Inputs on one linear piece pass exactly; across the lower
 * kink only (convex) the chord above and a line through (min, min) below; across the upper kink only (concave) the
 * chord below and a line through (max, max) above; across both, the line from (l, min) to (max, max) above and from
 * (min, min) to (u, max) below, each of which stays on its side of the function everywhere.
 */
import type { BoundRule, Itv } from '../types.ts';
import { linesBackward, newLines, setExact, type Lines } from './elementwise.ts';

function lines(x: Itv, mn: number, mx: number): Lines {
  const L = newLines(x.lo.length);
  for (let i = 0; i < x.lo.length; i++) {
    const l = x.lo[i];
    const u = x.hi[i];
    if (u <= mn) setExact(L, i, 0, mn);
    else if (l >= mx) setExact(L, i, 0, mx);
    else if (l >= mn && u <= mx) setExact(L, i, 1, 0);
    else if (l < mn && u > mx) {
      const up = (mx - mn) / (mx - l);
      const dn = (mx - mn) / (u - mn);
      [L.kl[i], L.cl[i], L.ku[i], L.cu[i]] = [dn, mn - dn * mn, up, mn - up * l];
    } else if (l < mn) {
      const lam = (u - mn) / (u - l);
      const t = u - mn > mn - l ? 1 : 0;
      [L.kl[i], L.cl[i], L.ku[i], L.cu[i]] = [t, mn * (1 - t), lam, mn - lam * l];
    } else {
      const lam = (mx - l) / (u - l);
      const t = mx - l > u - mx ? 1 : 0;
      [L.kl[i], L.cl[i], L.ku[i], L.cu[i]] = [lam, l - lam * l, t, mx * (1 - t)];
    }
  }
  return L;
}

export const clip: BoundRule<'clip'> = {
  interval(v) {
    const { min, max } = v.node.attrs;
    const x = v.ins[0];
    const f = (t: number): number => (t < min ? min : t > max ? max : t);
    const lo = x.lo.map(f);
    const hi = x.hi.map(f);
    // every value is an input bound, min or max: exact
    return { lo, hi, mag: Float64Array.from(x.mag, (m, i) => Math.max(m, Math.abs(lo[i]), Math.abs(hi[i]))) };
  },
  backward: (v, A, S) => linesBackward(v, A, S, lines(v.ins[0], v.node.attrs.min, v.node.attrs.max)),
  refine(v) {
    const { min, max } = v.node.attrs;
    const x = v.ins[0];
    return Uint8Array.from(x.lo, (l, i) => ((l < min && x.hi[i] > min) || (l < max && x.hi[i] > max) ? 1 : 0));
  },
};
