/** The kernel shared by the four binary operators: numpy broadcasting of two data tensors within each sample. */
import type { NodeOfOp } from '../types.ts';
import type { OpDef } from '../op.ts';
import { broadcastIndex, broadcastShapes, fmt, sameShape, size } from '../shape.ts';

type Binary = NodeOfOp<'add' | 'sub' | 'mul' | 'div'>;

export function binaryOp<O extends Binary['op']>(f: (a: number, b: number) => number): OpDef<O> {
  return {
    arity: 2,
    infer(_node, [a, b]) {
      return broadcastShapes(a, b) ?? `shapes ${fmt(a)} and ${fmt(b)} do not broadcast`;
    },
    forward(_node, [a, b], [sa, sb], os, batch) {
      const n = size(os);
      const na = size(sa);
      const nb = size(sb);
      const y = new Float64Array(batch * n);
      if (sameShape(sa, os) && sameShape(sb, os)) {
        for (let e = 0; e < y.length; e++) y[e] = f(a[e], b[e]);
        return y;
      }
      const ia = broadcastIndex(sa, os);
      const ib = broadcastIndex(sb, os);
      for (let s = 0; s < batch; s++) {
        const oa = s * na;
        const ob = s * nb;
        const oy = s * n;
        for (let e = 0; e < n; e++) y[oy + e] = f(a[oa + ia[e]], b[ob + ib[e]]);
      }
      return y;
    },
  };
}
