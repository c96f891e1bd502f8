/**
 * The bound rule of every operator, keyed as src/model/graph/registry.ts keys the operators: adding an operator is
 * adding its rule file in rules/ and one line here (the type below fails to compile until then).
 */
import type { OpName } from '../../model/graph/types.ts';
import type { BoundRule } from './types.ts';
import { conv } from './rules/conv.ts';
import { dense } from './rules/dense.ts';
import { add } from './rules/add.ts';
import { sub } from './rules/sub.ts';
import { mul } from './rules/mul.ts';
import { div } from './rules/div.ts';
import { affine } from './rules/affine.ts';
import { batchnorm } from './rules/batchnorm.ts';
import { relu } from './rules/relu.ts';
import { leakyrelu } from './rules/leakyrelu.ts';
import { prelu } from './rules/prelu.ts';
import { clip } from './rules/clip.ts';
import { sigmoid } from './rules/sigmoid.ts';
import { tanh } from './rules/tanh.ts';
import { maxpool } from './rules/maxpool.ts';
import { averagepool } from './rules/averagepool.ts';
import { globalaveragepool } from './rules/globalaveragepool.ts';
import { concat } from './rules/concat.ts';
import { reshape } from './rules/reshape.ts';
import { transpose } from './rules/transpose.ts';
import { pad } from './rules/pad.ts';
import { softmax } from './rules/softmax.ts';
import { logsoftmax } from './rules/logsoftmax.ts';

export const RULES: { readonly [O in OpName]: BoundRule<O> } = {
  conv, dense, add, sub, mul, div, affine, batchnorm, relu, leakyrelu, prelu, clip, sigmoid, tanh, maxpool,
  averagepool, globalaveragepool, concat, reshape, transpose, pad, softmax, logsoftmax,
};

export function ruleOf(op: OpName): BoundRule {
  return RULES[op] as unknown as BoundRule;
}
