/** PReLU: the ReLU relaxation with a constant negative-side slope per element (broadcast, usually per channel). */
import { broadcastIndex } from '../../../model/graph/shape.ts';
import { leakyRule } from './leaky-common.ts';

export const prelu = leakyRule<'prelu'>((v) => {
  const idx = broadcastIndex(v.node.params.slope.shape, v.inShapes[0]);
  const s = v.node.params.slope.data;
  return (i) => s[idx[i]];
});
