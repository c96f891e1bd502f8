/** Elementwise div of two data tensors, broadcast within each sample (residual connections). */
import { binaryOp } from './broadcast.ts';

export const div = binaryOp<'div'>((a, b) => a / b);
