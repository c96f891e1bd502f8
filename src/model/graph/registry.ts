/** Every operator of the graph model, by name: adding an operator is adding its file in ops/ and one line here. */
import type { OpName } from './types.ts';
import type { OpDef } from './op.ts';
import { conv } from './ops/conv.ts';
import { dense } from './ops/dense.ts';
import { add } from './ops/add.ts';
import { sub } from './ops/sub.ts';
import { mul } from './ops/mul.ts';
import { div } from './ops/div.ts';
import { affine } from './ops/affine.ts';
import { batchnorm } from './ops/batchnorm.ts';
import { relu } from './ops/relu.ts';
import { leakyrelu } from './ops/leakyrelu.ts';
import { prelu } from './ops/prelu.ts';
import { clip } from './ops/clip.ts';
import { sigmoid } from './ops/sigmoid.ts';
import { tanh } from './ops/tanh.ts';
import { maxpool } from './ops/maxpool.ts';
import { averagepool } from './ops/averagepool.ts';
import { globalaveragepool } from './ops/globalaveragepool.ts';
import { concat } from './ops/concat.ts';
import { reshape } from './ops/reshape.ts';
import { transpose } from './ops/transpose.ts';
import { pad } from './ops/pad.ts';
import { softmax } from './ops/softmax.ts';
import { logsoftmax } from './ops/logsoftmax.ts';

export const OPS: { readonly [O in OpName]: OpDef<O> } = {
  conv, dense, add, sub, mul, div, affine, batchnorm, relu, leakyrelu, prelu, clip, sigmoid, tanh, maxpool,
  averagepool, globalaveragepool, concat, reshape, transpose, pad, softmax, logsoftmax,
};

export function opDef<O extends OpName>(op: O): OpDef<O> {
  return OPS[op] as OpDef<O>;
}
