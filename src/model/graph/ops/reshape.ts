/** A new shape for the same row-major data (Flatten, Reshape, Squeeze, Unsqueeze): no copy. */
import type { OpDef } from '../op.ts';
import { fmt, size } from '../shape.ts';

export const reshape: OpDef<'reshape'> = {
  arity: 1,
  infer(node, [x]) {
    const s = node.attrs.shape;
    if (!s.every((d) => Number.isInteger(d) && d >= 1) || size(s) !== size(x)) return `cannot reshape ${fmt(x)} to ${fmt(s)}`;
    return s;
  },
  // tensors are never written after they are made, so the output may share the input's array
  forward: (_node, [x]) => x,
};
