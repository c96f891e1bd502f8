/** y = 1 / (1 + e^-x) */
import { unaryOp } from './unary.ts';

export const sigmoid = unaryOp<'sigmoid'>(() => (v) => 1 / (1 + Math.exp(-v)));
