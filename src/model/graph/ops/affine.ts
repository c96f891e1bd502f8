/** y = x * scale + shift with constant scale and shift broadcast to x (Add / Sub / Mul / Div by a constant). */
import type { OpDef } from '../op.ts';
import type { Shape } from '../types.ts';
import { broadcastIndex, fmt, size } from '../shape.ts';

/** Whether a constant of shape `c` broadcasts to x's shape without enlarging it: same rank, each axis 1 or x's. */
export function fitsUnder(c: Shape, x: Shape): boolean {
  return c.length === x.length && c.every((d, i) => d === 1 || d === x[i]);
}

export const affine: OpDef<'affine'> = {
  arity: 1,
  infer(node, [x]) {
    const { scale, shift } = node.params;
    for (const [what, t] of [['scale', scale], ['shift', shift]] as const) {
      if (!fitsUnder(t.shape, x) || t.data.length !== size(t.shape)) return `constant ${what} of shape ${fmt(t.shape)} does not broadcast to the data's shape ${fmt(x)}`;
    }
    return x;
  },
  forward(node, [x], [xs], _os, batch) {
    const n = size(xs);
    const si = broadcastIndex(node.params.scale.shape, xs);
    const ti = broadcastIndex(node.params.shift.shape, xs);
    const s = node.params.scale.data;
    const t = node.params.shift.data;
    const y = new Float64Array(batch * n);
    for (let b = 0; b < batch; b++) {
      const o = b * n;
      for (let e = 0; e < n; e++) y[o + e] = x[o + e] * s[si[e]] + t[ti[e]];
    }
    return y;
  },
};
