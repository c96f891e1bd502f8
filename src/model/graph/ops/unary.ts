/** The kernel shared by elementwise activations. */
import type { NodeOfOp, OpName } from '../types.ts';
import type { OpDef } from '../op.ts';

export function unaryOp<O extends OpName>(f: (node: NodeOfOp<O>) => (v: number) => number): OpDef<O> {
  return {
    arity: 1,
    infer: (_node, [x]) => x,
    forward(node, [x]) {
      const g = f(node);
      const y = new Float64Array(x.length);
      for (let e = 0; e < x.length; e++) y[e] = g(x[e]);
      return y;
    },
  };
}
