/**
 * AveragePool: a linear map with non-negative weights, so the interval is the kernel on lo and on hi; backward
 * spreads each output's coefficient over its window (a transposed pooling), divided as the forward divides.
 */
import type { BoundRule } from '../types.ts';
import { poolDivisor, poolTaps } from '../../../model/graph/ops/pool-common.ts';
import { linearResult, runForward, widened } from '../util.ts';

export const averagepool: BoundRule<'averagepool'> = {
  interval(v) {
    const run = (x: Float64Array): Float64Array => runForward(v.node, [x], v.inShapes, v.outShape);
    return widened(run(v.ins[0].lo), run(v.ins[0].hi), run(v.ins[0].mag));
  },
  backward(v, A, S) {
    const [C, H, W] = v.inShapes[0];
    const [, OH, OW] = v.outShape;
    const [rows, cols] = poolTaps(v.node.attrs, v.inShapes[0], v.outShape);
    const B = new Float64Array(S * C * H * W);
    let k = 0;
    for (let p = 0; p < S * C; p++) {
      const bo = p * H * W;
      for (let oh = 0; oh < OH; oh++) {
        const tr = rows[oh];
        for (let ow = 0; ow < OW; ow++) {
          const tc = cols[ow];
          const a = A[k++];
          if (a === 0) continue;
          const w = a / poolDivisor(v.node.attrs, tr.length, tc.length);
          for (let i = 0; i < tr.length; i++) for (let j = 0; j < tc.length; j++) B[bo + tr[i] * W + tc[j]] += w;
        }
      }
    }
    return linearResult([B], new Float64Array(S), A, S, v.out.mag);
  },
};
