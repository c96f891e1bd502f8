/**
 * Mul of two data tensors: interval arithmetic (the hull of the four corner products); McCormick planes, below
 * ly x + lx y - lx ly and above uy x + lx y - lx uy, each valid on the whole box of (x, y).
 */
import type { BoundRule } from '../types.ts';
import { cornerItv, indexMaps, newPlanes, planesBackward } from './binary-lines.ts';

export const mul: BoundRule<'mul'> = {
  interval: (v) => cornerItv(v, (a, b) => a * b),
  backward(v, A, S) {
    const [ia, ib] = indexMaps(v);
    const [x, y] = v.ins;
    const P = newPlanes(ia.length);
    for (let e = 0; e < ia.length; e++) {
      const lx = x.lo[ia[e]];
      const ly = y.lo[ib[e]];
      const uy = y.hi[ib[e]];
      const Mx = x.mag[ia[e]];
      const My = y.mag[ib[e]];
      for (const [k, by] of [[0, ly], [1, uy]] as const) {
        P.px[k][e] = by;
        P.py[k][e] = lx;
        P.q[k][e] = -lx * by;
        P.terms[k][e] = Math.abs(by) * Mx + Math.abs(lx) * My + Math.abs(lx * by);
      }
    }
    return planesBackward(v, A, S, P);
  },
  refine: () => true,
};
