/** Reshape: the same row-major values, so A is unchanged (only its shape is read differently). */
import type { BoundRule } from '../types.ts';
import { movedItv } from './shape-op.ts';

export const reshape: BoundRule<'reshape'> = {
  interval: movedItv,
  backward: (_v, A, S) => ({ ins: [A], bias: new Float64Array(S), mag: new Float64Array(S) }),
};
