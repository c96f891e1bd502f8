/**
 * The backward step shared by Mul and Div of two data tensors (broadcast within a sample): per output element and
 * per sign of its coefficient, one plane px x + py y + q below the output (a >= 0) or above it (a < 0), and the sum
 * of |terms| that formed it (for the outward rounding).
 */
import type { BackResult, BackViewBase, Itv, ViewBase } from '../types.ts';
import { broadcastIndex, size } from '../../../model/graph/shape.ts';
import { widened } from '../util.ts';

export interface Planes {
  /** [0]: below the output (used when a >= 0), [1]: above it (a < 0) */
  px: [Float64Array, Float64Array];
  py: [Float64Array, Float64Array];
  q: [Float64Array, Float64Array];
  terms: [Float64Array, Float64Array];
}

export function newPlanes(n: number): Planes {
  const two = (): [Float64Array, Float64Array] => [new Float64Array(n), new Float64Array(n)];
  return { px: two(), py: two(), q: two(), terms: two() };
}

/** Broadcast index maps of both inputs onto the output. */
export function indexMaps(v: ViewBase): [Int32Array, Int32Array] {
  return [broadcastIndex(v.inShapes[0], v.outShape), broadcastIndex(v.inShapes[1], v.outShape)];
}

/** Elementwise f(a_i, b_i) over the four corners of each pair of intervals: the hull, widened by the magnitudes. */
export function cornerItv(v: ViewBase, f: (a: number, b: number) => number): Itv {
  const [ia, ib] = indexMaps(v);
  const [x, y] = v.ins;
  const n = ia.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const mag = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const a = ia[e];
    const b = ib[e];
    const c = [f(x.lo[a], y.lo[b]), f(x.lo[a], y.hi[b]), f(x.hi[a], y.lo[b]), f(x.hi[a], y.hi[b])];
    lo[e] = Math.min(...c);
    hi[e] = Math.max(...c);
    mag[e] = Math.max(...c.map(Math.abs));
  }
  return widened(lo, hi, mag);
}

export function planesBackward(v: BackViewBase, A: Float64Array, S: number, P: Planes): BackResult {
  const [ia, ib] = indexMaps(v);
  const n = ia.length;
  const na = size(v.inShapes[0]);
  const nb = size(v.inShapes[1]);
  const Ba = new Float64Array(S * na);
  const Bb = new Float64Array(S * nb);
  const bias = new Float64Array(S);
  const mag = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let c = 0;
    let m = 0;
    for (let e = 0; e < n; e++) {
      const a = A[s * n + e];
      if (a === 0) continue;
      const k = a >= 0 ? 0 : 1;
      Ba[s * na + ia[e]] += a * P.px[k][e];
      Bb[s * nb + ib[e]] += a * P.py[k][e];
      c += a * P.q[k][e];
      m += Math.abs(a) * P.terms[k][e];
    }
    bias[s] = c;
    mag[s] = m;
  }
  const relaxed =
    S === 1
      ? ([x, y]: readonly (Float64Array | undefined)[]) =>
          Float64Array.from(ia, (a, e) => {
            const k = A[e] >= 0 ? 0 : 1;
            return P.px[k][e] * x![a] + P.py[k][e] * y![ib[e]] + P.q[k][e];
          })
      : undefined;
  return { ins: [Ba, Bb], bias, mag, relaxed };
}
