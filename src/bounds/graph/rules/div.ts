/**
 * Div of two data tensors, x / y: refused when a divisor's interval contains 0. Interval: the hull of the four
 * corner quotients (x / y is monotone in each argument while y keeps its sign). Backward: r = 1 / y lies in
 * [1/uy, 1/ly] (widened); 1/y is convex for y > 0 (chord above, tangent at the midpoint below) and concave for
 * y < 0 (the mirror); z = x r by McCormick, and r's coefficient then takes r's line on the side its sign needs.
 */
import type { BoundRule, Itv } from '../types.ts';
import { BoundRefused } from '../types.ts';
import { widenHi, widenLo } from '../../round.ts';
import { cornerItv, indexMaps, newPlanes, planesBackward } from './binary-lines.ts';

function checkDivisor(v: { node: Parameters<typeof cornerItv>[0]['node']; ins: readonly Itv[] }): void {
  const y = v.ins[1];
  for (let i = 0; i < y.lo.length; i++) {
    if (y.lo[i] <= 0 && y.hi[i] >= 0) throw new BoundRefused(v.node, `the divisor's element ${i} lies in [${y.lo[i]}, ${y.hi[i]}], which contains 0`);
  }
}

/** The lines of 1/y on [l, u] (0 outside it): [k, c] below and above. */
function reciprocalLines(l: number, u: number): { lower: [number, number]; upper: [number, number] } {
  const m = 0.5 * (l + u);
  const tangent: [number, number] = [-1 / (m * m), 2 / m];
  const chord: [number, number] = [-1 / (l * u), 1 / l + 1 / u];
  return l > 0 ? { lower: tangent, upper: chord } : { lower: chord, upper: tangent };
}

export const div: BoundRule<'div'> = {
  interval(v) {
    checkDivisor(v);
    return cornerItv(v, (a, b) => a / b);
  },
  backward(v, A, S) {
    checkDivisor(v);
    const [ia, ib] = indexMaps(v);
    const [x, y] = v.ins;
    const P = newPlanes(ia.length);
    for (let e = 0; e < ia.length; e++) {
      const lx = x.lo[ia[e]];
      const ly = y.lo[ib[e]];
      const uy = y.hi[ib[e]];
      const rl = widenLo(1 / uy, Math.abs(1 / uy));
      const ru = widenHi(1 / ly, Math.abs(1 / ly));
      const Mx = x.mag[ia[e]];
      const My = y.mag[ib[e]];
      const Mr = Math.max(Math.abs(rl), Math.abs(ru));
      const R = reciprocalLines(ly, uy);
      for (const [k, br] of [[0, rl], [1, ru]] as const) {
        // z >= br x + lx r - lx br (k = 0), z <= the same with ru (k = 1); r's coefficient is lx (times a)
        const wantLower = (k === 0) === lx >= 0;
        const [kr, cr] = wantLower ? R.lower : R.upper;
        P.px[k][e] = br;
        P.py[k][e] = lx * kr;
        P.q[k][e] = lx * cr - lx * br;
        P.terms[k][e] = Math.abs(br) * Mx + Math.abs(lx) * (Mr + Math.abs(kr) * My + Math.abs(cr)) + Math.abs(lx * br);
      }
    }
    return planesBackward(v, A, S, P);
  },
  refine: () => true,
};
