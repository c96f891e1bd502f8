/** The mean over all spatial positions of each channel: [C, ...spatial] -> [C, 1, ...]. */
import type { OpDef } from '../op.ts';
import { fmt, size } from '../shape.ts';

export const globalaveragepool: OpDef<'globalaveragepool'> = {
  arity: 1,
  infer(_node, [x]) {
    if (x.length < 2) return `input of shape ${fmt(x)} has no spatial axes`;
    return [x[0], ...x.slice(1).map(() => 1)];
  },
  forward(_node, [x], [xs], _os, batch) {
    const inner = size(xs) / xs[0];
    const y = new Float64Array(batch * xs[0]);
    for (let p = 0; p < y.length; p++) {
      let s = 0;
      for (let e = p * inner; e < (p + 1) * inner; e++) s += x[e];
      y[p] = s / inner;
    }
    return y;
  },
};
