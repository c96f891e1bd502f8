/** y = W x + b on the last axis (Gemm, MatMul by a constant): weight [out, in], bias [out]. */
import type { OpDef } from '../op.ts';
import { fmt, size } from '../shape.ts';

export const dense: OpDef<'dense'> = {
  arity: 1,
  infer(node, [x]) {
    const w = node.params.weight.shape;
    const b = node.params.bias.shape;
    if (x.length < 1) return 'input is a scalar';
    if (w.length !== 2 || w[1] !== x[x.length - 1]) return `weight of shape ${fmt(w)} does not fit input ${fmt(x)}`;
    if (b.length !== 1 || b[0] !== w[0]) return `bias of shape ${fmt(b)} for ${w[0]} outputs`;
    return [...x.slice(0, -1), w[0]];
  },
  forward(node, [x], [xs], _os, batch) {
    const [m, n] = node.params.weight.shape;
    const W = node.params.weight.data;
    const bias = node.params.bias.data;
    const rows = (batch * size(xs)) / n;
    const y = new Float64Array(rows * m);
    for (let r = 0; r < rows; r++) {
      const xo = r * n;
      for (let i = 0; i < m; i++) {
        let acc = bias[i];
        const wo = i * n;
        for (let j = 0; j < n; j++) acc += W[wo + j] * x[xo + j];
        y[r * m + i] = acc;
      }
    }
    return y;
  },
};
