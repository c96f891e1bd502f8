/** Dense (Gemm / MatMul by a constant) on the last axis: interval by centre and radius, backward A W. */
import type { BoundRule } from '../types.ts';
import { absTensor, linearItv, linearResult, zeroTensor } from '../util.ts';

export const dense: BoundRule<'dense'> = {
  interval(v) {
    const { weight, bias } = v.node.params;
    return linearItv(v, { ...v.node, params: { weight: absTensor(weight), bias: zeroTensor(bias) } });
  },
  backward(v, A, S) {
    const [m, n] = v.node.params.weight.shape;
    const W = v.node.params.weight.data;
    const b = v.node.params.bias.data;
    const rows = (S * v.out.lo.length) / m; // S x (positions of the leading axes)
    const B = new Float64Array(rows * n);
    const bias = new Float64Array(S);
    const per = v.out.lo.length / m;
    for (let r = 0; r < rows; r++) {
      const ao = r * m;
      const bo = r * n;
      let c = 0;
      for (let i = 0; i < m; i++) {
        const a = A[ao + i];
        if (a === 0) continue;
        c += a * b[i];
        const wo = i * n;
        for (let j = 0; j < n; j++) B[bo + j] += a * W[wo + j];
      }
      bias[Math.floor(r / per)] += c;
    }
    return linearResult([B], bias, A, S, v.out.mag);
  },
};
