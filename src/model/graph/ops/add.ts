/** Elementwise add of two data tensors, broadcast within each sample (residual connections). */
import { binaryOp } from './broadcast.ts';

export const add = binaryOp<'add'>((a, b) => a + b);
