/** LeakyReLU: the ReLU relaxation with the negative side's slope alpha. */
import { leakyRule } from './leaky-common.ts';

export const leakyrelu = leakyRule<'leakyrelu'>((v) => {
  const a = v.node.attrs.alpha;
  return () => a;
});
