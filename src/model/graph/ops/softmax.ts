/** y = e^x / sum e^x over the axis */
import { softmaxOp } from './softmax-common.ts';

export const softmax = softmaxOp<'softmax'>(false);
