/** y = x * scale + shift (constants broadcast to x): interval by centre and radius, backward A * scale. */
import type { BoundRule } from '../types.ts';
import { expand } from '../../../model/graph/shape.ts';
import { absTensor, linearItv, linearResult, rowDot, zeroTensor } from '../util.ts';

export const affine: BoundRule<'affine'> = {
  interval(v) {
    const { scale, shift } = v.node.params;
    return linearItv(v, { ...v.node, params: { scale: absTensor(scale), shift: zeroTensor(shift) } });
  },
  backward(v, A, S) {
    const xs = v.inShapes[0];
    const sc = expand(v.node.params.scale.data, v.node.params.scale.shape, xs);
    const sh = expand(v.node.params.shift.data, v.node.params.shift.shape, xs);
    return scaleBackward(A, S, sc, sh, v.out.mag);
  },
};

/** A_in = A * scale elementwise, bias = A . shift (affine and batchnorm). */
export function scaleBackward(A: Float64Array, S: number, sc: Float64Array, sh: Float64Array, outMag: Float64Array) {
  const n = sc.length;
  const B = new Float64Array(A.length);
  for (let s = 0; s < S; s++) for (let i = 0, o = s * n; i < n; i++) B[o + i] = A[o + i] * sc[i];
  const [bias] = rowDot(A, S, sh);
  return linearResult([B], bias, A, S, outMag);
}
