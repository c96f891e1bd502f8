/** BatchNormalization in inference mode, folded at load into y = x * scale[c] + shift[c] on axis 0 (channels). */
import type { OpDef } from '../op.ts';
import { fmt, size } from '../shape.ts';

export const batchnorm: OpDef<'batchnorm'> = {
  arity: 1,
  infer(node, [x]) {
    const { scale, shift } = node.params;
    const c = x[0];
    if (x.length < 1) return 'input is a scalar';
    if (scale.shape.length !== 1 || scale.shape[0] !== c || shift.shape.length !== 1 || shift.shape[0] !== c) {
      return `scale ${fmt(scale.shape)} and shift ${fmt(shift.shape)} do not fit ${c} channels of ${fmt(x)}`;
    }
    return x;
  },
  forward(node, [x], [xs], _os, batch) {
    const C = xs[0];
    const inner = size(xs) / C;
    const s = node.params.scale.data;
    const t = node.params.shift.data;
    const y = new Float64Array(x.length);
    for (let b = 0; b < batch; b++) {
      for (let c = 0; c < C; c++) {
        const o = (b * C + c) * inner;
        const sc = s[c];
        const sh = t[c];
        for (let e = o; e < o + inner; e++) y[e] = x[e] * sc + sh;
      }
    }
    return y;
  },
};
