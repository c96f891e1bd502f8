/** Elementwise sub of two data tensors, broadcast within each sample (residual connections). */
import { binaryOp } from './broadcast.ts';

export const sub = binaryOp<'sub'>((a, b) => a - b);
