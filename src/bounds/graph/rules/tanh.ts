/** Tanh: the S-shaped relaxation of s-shape.ts. */
import { sRule } from './s-shape.ts';

export const tanh = sRule<'tanh'>({ f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2 });
