/**
 * Outward rounding of bounds. Float arithmetic in the bound computations can err by a few ulps of the magnitudes
 * involved; every bound is widened by BOUND_REL times the magnitude of the terms that produced it (plus BOUND_ABS),
 * orders of magnitude more than the accumulated rounding of the sums involved (n * 2^-53 for n terms).
 */
export const BOUND_REL = 1e-10;
export const BOUND_ABS = 1e-12;

export const BOUND_WIDENING_TEXT =
  `every computed bound is widened outward by ${BOUND_REL} x (sum of |terms|) + ${BOUND_ABS}`;

export function widenLo(x: number, magnitude: number): number {
  return x - (BOUND_REL * (magnitude + Math.abs(x)) + BOUND_ABS);
}

export function widenHi(x: number, magnitude: number): number {
  return x + (BOUND_REL * (magnitude + Math.abs(x)) + BOUND_ABS);
}
