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

/**
 * Whether every term of a sum w . x + b over an interval x is exactly zero: b = 0 and each w_j = 0 or x_j = [0, 0].
 * Such a pre-activation (all-zero weights, or inputs all dead) is exactly 0, and widening it to [-1e-12, 1e-12]
 * would leave a ReLU that is never active looking unstable on every box, for ever (a network of zero weights grew a
 * census tree to 3 GB). Checked term by term, not by the magnitude being 0, which an underflowed product could fake.
 */
export function termsVanish(b: number, w: Float64Array, row: number, n: number, lo: ArrayLike<number>, hi: ArrayLike<number>): boolean {
  if (b !== 0) return false;
  for (let j = 0; j < n; j++) if (w[row + j] !== 0 && (lo[j] !== 0 || hi[j] !== 0)) return false;
  return true;
}
