/** GlobalAveragePool: the mean of each channel; backward spreads each channel's coefficient evenly over it. */
import type { BoundRule } from '../types.ts';
import { size } from '../../../model/graph/shape.ts';
import { linearResult, runForward, widened } from '../util.ts';

export const globalaveragepool: BoundRule<'globalaveragepool'> = {
  interval(v) {
    const run = (x: Float64Array): Float64Array => runForward(v.node, [x], v.inShapes, v.outShape);
    return widened(run(v.ins[0].lo), run(v.ins[0].hi), run(v.ins[0].mag));
  },
  backward(v, A, S) {
    const xs = v.inShapes[0];
    const C = xs[0];
    const inner = size(xs) / C;
    const B = new Float64Array(S * C * inner);
    for (let p = 0; p < S * C; p++) B.fill(A[p] / inner, p * inner, (p + 1) * inner);
    return linearResult([B], new Float64Array(S), A, S, v.out.mag);
  },
};
