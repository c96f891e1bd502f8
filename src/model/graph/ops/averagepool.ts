/** 2-D average pooling; the divisor is the whole window (countIncludePad) or the taps inside the input. */
import type { OpDef } from '../op.ts';
import { poolDivisor, poolShape, poolTaps } from './pool-common.ts';

export const averagepool: OpDef<'averagepool'> = {
  arity: 1,
  infer: (node, [x]) => poolShape(node.attrs, x),
  forward(node, [x], [xs], os, batch) {
    const [C, H, W] = xs;
    const [, OH, OW] = os;
    const [rows, cols] = poolTaps(node.attrs, xs, os);
    const y = new Float64Array(batch * C * OH * OW);
    let k = 0;
    for (let p = 0; p < batch * C; p++) {
      const xo = p * H * W;
      for (let oh = 0; oh < OH; oh++) {
        const tr = rows[oh];
        for (let ow = 0; ow < OW; ow++) {
          const tc = cols[ow];
          let s = 0;
          for (let i = 0; i < tr.length; i++) {
            const r = xo + tr[i] * W;
            for (let j = 0; j < tc.length; j++) s += x[r + tc[j]];
          }
          y[k++] = s / poolDivisor(node.attrs, tr.length, tc.length);
        }
      }
    }
    return y;
  },
};
