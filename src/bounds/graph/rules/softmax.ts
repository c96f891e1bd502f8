/** Softmax: the elementwise interval of softmax-common.ts, its output's interval backward. */
import { softRule } from './softmax-common.ts';

export const softmax = softRule<'softmax'>(false);
