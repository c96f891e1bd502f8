/** y = max(x, 0) */
import type { OpDef } from '../op.ts';

export const relu: OpDef<'relu'> = {
  arity: 1,
  infer: (_node, [x]) => x,
  forward(_node, [x]) {
    const y = new Float64Array(x.length);
    for (let e = 0; e < x.length; e++) y[e] = x[e] > 0 ? x[e] : 0;
    return y;
  },
};
