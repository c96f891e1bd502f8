/** Add / Sub of two data tensors (residual connections), broadcast within each sample. */
import type { BoundRule } from '../types.ts';
import { widened, runForward, reduceTo, linearResult } from '../util.ts';

export function addSubRule<O extends 'add' | 'sub'>(sign: 1 | -1): BoundRule<O> {
  return {
    interval(v) {
      const [a, b] = v.ins;
      const run = (x: Float64Array, y: Float64Array): Float64Array => runForward(v.node, [x, y], v.inShapes, v.outShape);
      const lo = sign > 0 ? run(a.lo, b.lo) : run(a.lo, b.hi);
      const hi = sign > 0 ? run(a.hi, b.hi) : run(a.hi, b.lo);
      // the magnitudes add whatever the sign: an add node on |a| and |b| (sub's kernel would subtract them)
      const mag = runForward({ ...v.node, op: 'add' }, [a.mag, b.mag], v.inShapes, v.outShape);
      return widened(lo, hi, mag);
    },
    backward(v, A, S) {
      const [sa, sb] = v.inShapes;
      const Aa = reduceTo(A, S, sa, v.outShape);
      let Ab = reduceTo(A, S, sb, v.outShape);
      if (sign < 0) Ab = Ab.map((x) => -x);
      return linearResult([Aa, Ab], new Float64Array(S), A, S, v.out.mag);
    },
  };
}
