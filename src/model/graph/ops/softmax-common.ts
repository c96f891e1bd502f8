/** Softmax and LogSoftmax over one axis (or, before opset 13, over the flattened axes from it to the end). */
import type { NodeOfOp } from '../types.ts';
import type { OpDef } from '../op.ts';
import { fmt, size } from '../shape.ts';

type Soft = NodeOfOp<'softmax' | 'logsoftmax'>;

export function softmaxOp<O extends Soft['op']>(log: boolean): OpDef<O> {
  return {
    arity: 1,
    infer(node, [x]) {
      const ax = (node as Soft).attrs.axis;
      return Number.isInteger(ax) && ax >= 0 && ax < x.length ? x : `axis ${ax} is not an axis of ${fmt(x)}`;
    },
    forward(node, [x], [xs], _os, batch) {
      const { axis, toEnd } = (node as Soft).attrs;
      const len = toEnd ? size(xs.slice(axis)) : xs[axis];
      const inner = toEnd ? 1 : size(xs.slice(axis + 1));
      const outer = batch * size(xs.slice(0, axis));
      const y = new Float64Array(x.length);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * len * inner + i;
          let m = -Infinity;
          for (let k = 0; k < len; k++) m = Math.max(m, x[base + k * inner]);
          let s = 0;
          for (let k = 0; k < len; k++) s += Math.exp(x[base + k * inner] - m);
          const ls = Math.log(s);
          for (let k = 0; k < len; k++) {
            const v = x[base + k * inner] - m;
            y[base + k * inner] = log ? v - ls : Math.exp(v) / s;
          }
        }
      }
      return y;
    },
  };
}
