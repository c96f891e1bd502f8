/** y = x - log sum e^x over the axis */
import { softmaxOp } from './softmax-common.ts';

export const logsoftmax = softmaxOp<'logsoftmax'>(true);
