/** y = tanh(x) */
import { unaryOp } from './unary.ts';

export const tanh = unaryOp<'tanh'>(() => Math.tanh);
