/** y = x >= 0 ? x : slope * x, the slope a constant broadcast to x (PyTorch: one per channel, [C, 1, 1]). */
import type { OpDef } from '../op.ts';
import { broadcastIndex, fmt, size } from '../shape.ts';
import { fitsUnder } from './affine.ts';

export const prelu: OpDef<'prelu'> = {
  arity: 1,
  infer(node, [x]) {
    const s = node.params.slope.shape;
    return fitsUnder(s, x) ? x : `slope of shape ${fmt(s)} does not broadcast to the data's shape ${fmt(x)}`;
  },
  forward(node, [x], [xs], _os, batch) {
    const n = size(xs);
    const si = broadcastIndex(node.params.slope.shape, xs);
    const s = node.params.slope.data;
    const y = new Float64Array(x.length);
    for (let b = 0; b < batch; b++) {
      for (let e = 0, o = b * n; e < n; e++) {
        const v = x[o + e];
        y[o + e] = v >= 0 ? v : s[si[e]] * v;
      }
    }
    return y;
  },
};
