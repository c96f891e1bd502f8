/** BatchNormalization folded to a per-channel scale and shift: as affine, the constants spread over each channel. */
import type { BoundRule } from '../types.ts';
import { size } from '../../../model/graph/shape.ts';
import { absTensor, linearItv, zeroTensor } from '../util.ts';
import { scaleBackward } from './affine.ts';

function perChannel(c: Float64Array, n: number, C: number): Float64Array {
  const inner = n / C;
  const r = new Float64Array(n);
  for (let k = 0; k < C; k++) r.fill(c[k], k * inner, (k + 1) * inner);
  return r;
}

export const batchnorm: BoundRule<'batchnorm'> = {
  interval(v) {
    const { scale, shift } = v.node.params;
    return linearItv(v, { ...v.node, params: { scale: absTensor(scale), shift: zeroTensor(shift) } });
  },
  backward(v, A, S) {
    const xs = v.inShapes[0];
    const n = size(xs);
    const { scale, shift } = v.node.params;
    return scaleBackward(A, S, perChannel(scale.data, n, xs[0]), perChannel(shift.data, n, xs[0]), v.out.mag);
  },
};
