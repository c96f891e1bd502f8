/** Permutes the per-sample axes: output axis i is input axis perm[i]. */
import type { OpDef } from '../op.ts';
import { fmt, size, strides } from '../shape.ts';

export const transpose: OpDef<'transpose'> = {
  arity: 1,
  infer(node, [x]) {
    const p = node.attrs.perm;
    const ok = p.length === x.length && p.every((v, i) => Number.isInteger(v) && v >= 0 && v < x.length && p.indexOf(v) === i);
    return ok ? p.map((v) => x[v]) : `perm ${fmt(p)} is not a permutation of the axes of ${fmt(x)}`;
  },
  forward(node, [x], [xs], os, batch) {
    const p = node.attrs.perm;
    const ist = strides(xs);
    const st = p.map((v) => ist[v]); // input stride of each output axis
    const n = size(xs);
    const y = new Float64Array(x.length);
    const pos = new Array<number>(os.length).fill(0);
    for (let b = 0; b < batch; b++) {
      let src = b * n;
      pos.fill(0);
      for (let e = 0; e < n; e++) {
        y[b * n + e] = x[src];
        for (let a = os.length - 1; a >= 0; a--) {
          src += st[a];
          if (++pos[a] < os[a]) break;
          src -= st[a] * os[a];
          pos[a] = 0;
        }
      }
    }
    return y;
  },
};
