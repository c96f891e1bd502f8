/** Sigmoid: the S-shaped relaxation of s-shape.ts. */
import { sRule } from './s-shape.ts';

const f = (x: number): number => 1 / (1 + Math.exp(-x));
export const sigmoid = sRule<'sigmoid'>({ f, df: (x) => f(x) * (1 - f(x)) });
