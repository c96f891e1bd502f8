/** Concat: A split back into the inputs' parts along the axis. */
import type { BoundRule } from '../types.ts';
import { size } from '../../../model/graph/shape.ts';
import { movedItv } from './shape-op.ts';

export const concat: BoundRule<'concat'> = {
  interval: movedItv,
  backward(v, A, S) {
    const ax = v.node.attrs.axis;
    const outer = S * size(v.outShape.slice(0, ax));
    const chunks = v.inShapes.map((s) => size(s.slice(ax)));
    const ins = v.inShapes.map((s) => new Float64Array(S * size(s)));
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < ins.length; i++) {
        ins[i].set(A.subarray(k, k + chunks[i]), o * chunks[i]);
        k += chunks[i];
      }
    }
    return { ins, bias: new Float64Array(S), mag: new Float64Array(S) };
  },
};
