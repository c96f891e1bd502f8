/** y = x >= 0 ? x : alpha * x */
import { unaryOp } from './unary.ts';

export const leakyrelu = unaryOp<'leakyrelu'>((node) => {
  const a = node.attrs.alpha;
  return (v) => (v >= 0 ? v : a * v);
});
