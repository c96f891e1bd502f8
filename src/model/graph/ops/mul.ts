/** Elementwise mul of two data tensors, broadcast within each sample (residual connections). */
import { binaryOp } from './broadcast.ts';

export const mul = binaryOp<'mul'>((a, b) => a * b);
