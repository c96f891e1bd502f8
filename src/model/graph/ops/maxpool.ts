/** 2-D max pooling: padding never wins (it is left out of each window). */
import type { OpDef } from '../op.ts';
import { poolShape, poolTaps } from './pool-common.ts';

export const maxpool: OpDef<'maxpool'> = {
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
          let m = -Infinity;
          for (let i = 0; i < tr.length; i++) {
            const r = xo + tr[i] * W;
            for (let j = 0; j < tc.length; j++) {
              const v = x[r + tc[j]];
              if (v > m) m = v;
            }
          }
          y[k++] = m;
        }
      }
    }
    return y;
  },
};
