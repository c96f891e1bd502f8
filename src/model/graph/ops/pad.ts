/** Constant padding of the per-sample axes: pads = [begin of each axis..., end of each axis...]. */
import type { OpDef } from '../op.ts';
import { fmt, size, strides } from '../shape.ts';

export const pad: OpDef<'pad'> = {
  arity: 1,
  infer(node, [x]) {
    const p = node.attrs.pads;
    if (x.length < 1 || p.length !== 2 * x.length || !p.every((v) => Number.isInteger(v) && v >= 0)) {
      return `pads ${fmt(p)} do not fit the ${x.length} axes of ${fmt(x)} (whole numbers >= 0, begin then end)`;
    }
    return x.map((d, i) => d + p[i] + p[i + x.length]);
  },
  forward(node, [x], [xs], os, batch) {
    const r = xs.length;
    const p = node.attrs.pads;
    const ost = strides(os);
    const row = xs[r - 1];
    const rows = size(xs) / row;
    const n = size(os);
    const y = new Float64Array(batch * n).fill(node.attrs.value);
    const pos = new Array<number>(r).fill(0); // the input row's position on the leading axes
    for (let q = 0; q < rows; q++) {
      let dst = p[r - 1];
      for (let a = 0; a < r - 1; a++) dst += (pos[a] + p[a]) * ost[a];
      for (let b = 0; b < batch; b++) y.set(x.subarray((b * rows + q) * row, (b * rows + q + 1) * row), b * n + dst);
      for (let a = r - 2; a >= 0; a--) {
        if (++pos[a] < xs[a]) break;
        pos[a] = 0;
      }
    }
    return y;
  },
};
