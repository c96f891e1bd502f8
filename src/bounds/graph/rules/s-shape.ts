/**
 * Sigmoid and Tanh: increasing, convex below 0 and concave above. Intervals map the endpoints. Lines, on [l, u]:
 * wholly convex: chord above, tangent at the midpoint below; wholly concave: the mirror. Across 0, above: the chord
 * when f'(u) exceeds the chord's slope (then the chord stays above), else the tangent at the smallest d in [0, u]
 * (by bisection) whose line passes above (l, f(l)); below, the mirror image with d in [l, 0]. A tangent at a
 * concave point lies above f on the concave side; on the convex side it lies above the chord there, hence above f,
 * once it passes above the far end (CROWN's argument, as auto_LiRPA's BoundSigmoid uses it).
 */
import type { BoundRule, Itv } from '../types.ts';
import { monotoneItv } from '../util.ts';
import { linesBackward, newLines, type Lines } from './elementwise.ts';

export interface SFun {
  f: (x: number) => number;
  df: (x: number) => number;
}

const tangent = (F: SFun, d: number): [number, number] => [F.df(d), F.f(d) - F.df(d) * d];

/** The tangent at d in [from, to] nearest `from` whose value at x is on the wanted side (above: >= f(x)). */
function searchTangent(F: SFun, from: number, to: number, x: number, above: boolean): [number, number] {
  const fx = F.f(x);
  const ok = (d: number): boolean => {
    const [k, c] = tangent(F, d);
    return above ? k * x + c >= fx : k * x + c <= fx;
  };
  let good = to; // the caller has checked `to`
  let bad = from;
  for (let it = 0; it < 40; it++) {
    const mid = 0.5 * (good + bad);
    if (ok(mid)) good = mid;
    else bad = mid;
  }
  return tangent(F, good);
}

function setLine(L: Lines, i: number, lower: [number, number], upper: [number, number]): void {
  [L.kl[i], L.cl[i]] = lower;
  [L.ku[i], L.cu[i]] = upper;
}

export function sLines(F: SFun, x: Itv): Lines {
  const L = newLines(x.lo.length);
  for (let i = 0; i < x.lo.length; i++) {
    const l = x.lo[i];
    const u = x.hi[i];
    const fl = F.f(l);
    const fu = F.f(u);
    if (!(u - l > 1e-9 * (1 + Math.abs(l) + Math.abs(u)))) {
      setLine(L, i, [0, fl], [0, fu]); // too narrow for a slope to be computed well: the constant ends
      continue;
    }
    const k = (fu - fl) / (u - l);
    const chord: [number, number] = [k, fl - k * l];
    const mid = tangent(F, 0.5 * (l + u));
    if (u <= 0) setLine(L, i, mid, chord);
    else if (l >= 0) setLine(L, i, chord, mid);
    else {
      const [ku, cu] = tangent(F, u);
      const upper = ku * l + cu < fl ? chord : searchTangent(F, 0, u, l, true);
      const [kl, cl] = tangent(F, l);
      const lower = kl * u + cl > fu ? chord : searchTangent(F, 0, l, u, false);
      setLine(L, i, lower, upper);
    }
  }
  return L;
}

export function sRule<O extends 'sigmoid' | 'tanh'>(F: SFun): BoundRule<O> {
  return {
    interval: (v) => monotoneItv(v.ins[0], F.f),
    backward: (v, A, S) => linesBackward(v, A, S, sLines(F, v.ins[0])),
    refine: () => true,
  };
}
