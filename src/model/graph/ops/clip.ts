/** y = min(max(x, min), max) (ReLU6 is min 0, max 6) */
import type { OpDef } from '../op.ts';
import { unaryOp } from './unary.ts';

const kernel = unaryOp<'clip'>((node) => {
  const { min, max } = node.attrs;
  return (v) => (v < min ? min : v > max ? max : v);
});

export const clip: OpDef<'clip'> = {
  ...kernel,
  infer(node, [x]) {
    const { min, max } = node.attrs;
    if (Number.isNaN(min) || Number.isNaN(max) || min > max) return `min ${min} is above max ${max}`;
    return x;
  },
};
