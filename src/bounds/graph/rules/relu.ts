/** ReLU: CROWN's relaxation (chord above, slope 0 or 1 below, or optimised slopes). */
import { leakyRule } from './leaky-common.ts';

export const relu = leakyRule<'relu'>(() => () => 0);
