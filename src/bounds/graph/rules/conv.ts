/**
 * 2-D convolution. Interval by centre and radius through the convolution kernel itself (|weights| for the radius);
 * backward as a TRANSPOSED convolution of each row of A (the scatter of each output position's coefficient over the
 * window that made it), never a dense matrix.
 */
import type { BoundRule, BackView } from '../types.ts';
import { kernelColumnRanges } from '../../../model/graph/ops/conv.ts';
import { absTensor, linearItv, linearResult, zeroTensor } from '../util.ts';

export const conv: BoundRule<'conv'> = {
  interval(v) {
    const { weight, bias } = v.node.params;
    return linearItv(v, { ...v.node, params: { weight: absTensor(weight), bias: zeroTensor(bias) } });
  },
  backward(v, A, S) {
    const B = transposedConv(v, A, S);
    const [O, OH, OW] = v.outShape;
    const plane = OH * OW;
    const b = v.node.params.bias.data;
    const bias = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      let c = 0;
      for (let o = 0; o < O; o++) {
        let t = 0;
        const ao = (s * O + o) * plane;
        for (let p = 0; p < plane; p++) t += A[ao + p];
        c += t * b[o];
      }
      bias[s] = c;
    }
    return linearResult([B], bias, A, S, v.out.mag);
  },
};

/** B[s] = conv^T(A[s]): B[s, c, ih, iw] = sum over (o, ki, kj) reaching it of w[o, c, ki, kj] A[s, o, oh, ow]. */
function transposedConv(v: BackView<'conv'>, A: Float64Array, S: number): Float64Array {
  const [C, H, W] = v.inShapes[0];
  const [O, OH, OW] = v.outShape;
  const { kernel: [KH, KW], strides: [SH, SW], pads: [PT, PL], dilations: [DH, DW], group } = v.node.attrs;
  const wt = v.node.params.weight.data;
  const Cg = C / group;
  const Og = O / group;
  const B = new Float64Array(S * C * H * W);
  const { lo, hi } = kernelColumnRanges(KW, DW, PL, SW, W, OW);
  const plane = OH * OW;
  for (let s = 0; s < S; s++) {
    for (let o = 0; o < O; o++) {
      const ao = (s * O + o) * plane;
      // rows of A start sparse (one neuron) and spread by a window per layer: loop over the nonzero block only
      const [r0, r1, c0, c1] = support(A, ao, OH, OW);
      if (r0 > r1) continue;
      const g = Math.floor(o / Og);
      for (let ic = 0; ic < Cg; ic++) {
        const bo = (s * C + g * Cg + ic) * H * W;
        const wo = (o * Cg + ic) * KH * KW;
        for (let ki = 0; ki < KH; ki++) {
          for (let kj = 0; kj < KW; kj++) {
            const w = wt[wo + ki * KW + kj];
            if (w === 0) continue;
            const off = kj * DW - PL;
            const w0 = Math.max(lo[kj], c0);
            const w1 = Math.min(hi[kj], c1);
            for (let oh = r0; oh <= r1; oh++) {
              const ih = oh * SH - PT + ki * DH;
              if (ih < 0 || ih >= H) continue;
              const ar = ao + oh * OW;
              const br = bo + ih * W + off;
              for (let ow = w0; ow <= w1; ow++) B[br + ow * SW] += w * A[ar + ow];
            }
          }
        }
      }
    }
  }
  return B;
}

/** The rows and columns [r0, r1] x [c0, c1] holding every nonzero of the plane at offset o (r0 > r1: none). */
function support(A: Float64Array, o: number, OH: number, OW: number): [number, number, number, number] {
  let r0 = OH;
  let r1 = -1;
  let c0 = OW;
  let c1 = -1;
  for (let r = 0; r < OH; r++) {
    const ro = o + r * OW;
    for (let c = 0; c < OW; c++) {
      if (A[ro + c] === 0) continue;
      if (r < r0) r0 = r;
      r1 = r;
      if (c < c0) c0 = c;
      if (c > c1) c1 = c;
    }
  }
  return [r0, r1, c0, c1];
}
