/**
 * ReLU, LeakyReLU and PReLU: y = x >= 0 ? x : a x with a per element. Stable inputs pass one exact line; an unstable
 * one gets, when a <= 1 (convex), the chord above and a line through 0 of slope in [a, 1] below (CROWN picks 1 when
 * u > -l, else a; optimised slopes t in [0, 1] give a + t (1 - a)); when a > 1 (concave) the chord below and a line
 * through 0 of slope in [1, a] above.
 */
import type { BackView, BoundRule, Itv, NodeView } from '../types.ts';
import { widened } from '../util.ts';
import { linesBackward, newLines, setExact, type Lines } from './elementwise.ts';

type Leaky = 'relu' | 'leakyrelu' | 'prelu';

function intervalOf(x: Itv, a: (i: number) => number): Itv {
  const n = x.lo.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  let exact = true;
  for (let i = 0; i < n; i++) {
    const s = a(i);
    if (s !== 0 && s !== 1) exact = false;
    const fl = x.lo[i] >= 0 ? x.lo[i] : s * x.lo[i];
    const fu = x.hi[i] >= 0 ? x.hi[i] : s * x.hi[i];
    lo[i] = Math.min(fl, fu, x.lo[i] < 0 && x.hi[i] > 0 ? 0 : Infinity);
    hi[i] = Math.max(fl, fu);
  }
  // a = 0 or 1 everywhere (ReLU): every value is an input bound or 0, computed exactly
  return exact ? { lo, hi, mag: x.mag } : widened(lo, hi, x.mag.map((m, i) => m * Math.max(1, Math.abs(a(i)))));
}

export const isUnstable = (x: Itv, i: number): boolean => x.lo[i] < 0 && x.hi[i] > 0;

function lines(x: Itv, a: (i: number) => number, t?: Float64Array): Lines {
  const n = x.lo.length;
  const L = newLines(n);
  for (let i = 0; i < n; i++) {
    const l = x.lo[i];
    const u = x.hi[i];
    const s = a(i);
    if (l >= 0) setExact(L, i, 1, 0);
    else if (u <= 0) setExact(L, i, s, 0);
    else {
      const lam = (u - s * l) / (u - l);
      const chordC = l * (s - lam);
      const pick = t ? t[i] : u > -l ? 1 : 0;
      const through0 = s <= 1 ? s + pick * (1 - s) : 1 + (1 - pick) * (s - 1);
      if (s <= 1) [L.kl[i], L.cl[i], L.ku[i], L.cu[i]] = [through0, 0, lam, chordC];
      else [L.kl[i], L.cl[i], L.ku[i], L.cu[i]] = [lam, chordC, through0, 0];
    }
  }
  return L;
}

export function leakyRule<O extends Leaky>(slopeOf: (v: NodeView<O>) => (i: number) => number): BoundRule<O> {
  return {
    interval: (v) => intervalOf(v.ins[0], slopeOf(v)),
    backward: (v: BackView<O>, A, S, t) => linesBackward(v, A, S, lines(v.ins[0], slopeOf(v), t)),
    refine(v) {
      const x = v.ins[0];
      const a = slopeOf(v);
      return Uint8Array.from(x.lo, (_, i) => (isUnstable(x, i) && a(i) !== 1 ? 1 : 0));
    },
    initialSlopes(v) {
      const x = v.ins[0];
      return Float64Array.from(x.lo, (l, i) => (x.hi[i] > -l ? 1 : 0));
    },
  };
}
