/** Transpose: A permuted back by the inverse permutation (the transpose kernel on S rows). */
import type { BoundRule } from '../types.ts';
import { runForward } from '../util.ts';
import { movedItv } from './shape-op.ts';

export const transpose: BoundRule<'transpose'> = {
  interval: movedItv,
  backward(v, A, S) {
    const p = v.node.attrs.perm;
    const inv = p.map((_, i) => p.indexOf(i));
    const B = runForward({ ...v.node, attrs: { perm: inv } }, [A], [v.outShape], v.inShapes[0], S);
    return { ins: [B], bias: new Float64Array(S), mag: new Float64Array(S) };
  },
};
