/** Constant Pad: A cropped to the input's positions; the padded positions' coefficients meet the pad value. */
import type { BoundRule } from '../types.ts';
import { size, strides } from '../../../model/graph/shape.ts';
import { runForward } from '../util.ts';

export const pad: BoundRule<'pad'> = {
  interval(v) {
    const x = v.ins[0];
    const run = (t: Float64Array, value: number): Float64Array => runForward({ ...v.node, attrs: { ...v.node.attrs, value } }, [t], v.inShapes, v.outShape);
    const val = v.node.attrs.value;
    // exact; the padded positions' magnitude is |value| (a negative pad value is no negative magnitude)
    return { lo: run(x.lo, val), hi: run(x.hi, val), mag: run(x.mag, Math.abs(val)) };
  },
  backward(v, A, S) {
    const xs = v.inShapes[0];
    const os = v.outShape;
    const r = xs.length;
    const p = v.node.attrs.pads;
    const ost = strides(os);
    const row = xs[r - 1];
    const rows = size(xs) / row;
    const n = size(os);
    const m = size(xs);
    const B = new Float64Array(S * m);
    const pos = new Array<number>(r).fill(0);
    for (let q = 0; q < rows; q++) {
      let src = p[r - 1];
      for (let a = 0; a < r - 1; a++) src += (pos[a] + p[a]) * ost[a];
      for (let s = 0; s < S; s++) B.set(A.subarray(s * n + src, s * n + src + row), s * m + q * row);
      for (let a = r - 2; a >= 0; a--) {
        if (++pos[a] < xs[a]) break;
        pos[a] = 0;
      }
    }
    const val = v.node.attrs.value;
    const bias = new Float64Array(S);
    const mag = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      let t = 0;
      for (let i = s * n; i < (s + 1) * n; i++) t += A[i];
      for (let i = s * m; i < (s + 1) * m; i++) t -= B[i];
      let u = 0;
      for (let i = s * n; i < (s + 1) * n; i++) u += Math.abs(A[i]);
      bias[s] = val * t;
      mag[s] = 2 * Math.abs(val) * u;
    }
    return { ins: [B], bias, mag };
  },
};
