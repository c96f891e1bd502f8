/**
 * Softmax and LogSoftmax: a sound elementwise interval, and the output's own interval as its backward step (a
 * constant: the operator is usually last, and class questions drop it). Element i of softmax is
 * 1 / (1 + sum_{j != i} e^(x_j - x_i)), smallest with x_i at its lower bound and the others at their upper bounds;
 * logsoftmax_i = -log(1 + sum_{j != i} e^(x_j - x_i)) likewise. Exponents are shifted by their maximum (no overflow).
 */
import type { BoundRule, Itv, NodeView } from '../types.ts';
import type { NodeOfOp } from '../../../model/graph/types.ts';
import { size } from '../../../model/graph/shape.ts';
import { widened } from '../util.ts';
import { constantBackward } from './elementwise.ts';

/** log(1 + sum_{j != i} e^(t_j - own)), the others taken from t, computed stably. */
function logOneSum(own: number, t: Float64Array, idx: number[], i: number): number {
  let m = 0; // the exponent of the '1' term
  for (const j of idx) if (j !== i) m = Math.max(m, t[j] - own);
  let s = Math.exp(-m);
  for (const j of idx) if (j !== i) s += Math.exp(t[j] - own - m);
  return m + Math.log(s);
}

/** The index groups that are normalised together. */
function groups(n: NodeOfOp<'softmax' | 'logsoftmax'>, xs: readonly number[]): number[][] {
  const { axis, toEnd } = n.attrs;
  const len = toEnd ? size(xs.slice(axis)) : xs[axis];
  const inner = toEnd ? 1 : size(xs.slice(axis + 1));
  const outer = size(xs.slice(0, axis));
  const r: number[][] = [];
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) r.push(Array.from({ length: len }, (_, k) => o * len * inner + i + k * inner));
  return r;
}

function softItv(v: NodeView<'softmax' | 'logsoftmax'>, log: boolean): Itv {
  const x = v.ins[0];
  const n = x.lo.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const mag = new Float64Array(n);
  for (const idx of groups(v.node, v.inShapes[0])) {
    for (const i of idx) {
      const a = logOneSum(x.lo[i], x.hi, idx, i); // the largest log(1 + sum)
      const b = logOneSum(x.hi[i], x.lo, idx, i); // the smallest
      lo[i] = log ? -a : Math.exp(-a);
      hi[i] = log ? -b : Math.exp(-b);
      mag[i] = (log ? Math.abs(a) + Math.abs(b) : 1) + 2 * idx.reduce((s, j) => Math.max(s, x.mag[j]), 0);
    }
  }
  const w = widened(lo, hi, mag);
  if (!log) for (let i = 0; i < n; i++) [w.lo[i], w.hi[i]] = [Math.max(0, w.lo[i]), Math.min(1, w.hi[i])];
  else for (let i = 0; i < n; i++) w.hi[i] = Math.min(0, w.hi[i]);
  return w;
}

export function softRule<O extends 'softmax' | 'logsoftmax'>(log: boolean): BoundRule<O> {
  return {
    interval: (v) => softItv(v as unknown as NodeView<'softmax' | 'logsoftmax'>, log),
    backward: constantBackward,
  };
}
