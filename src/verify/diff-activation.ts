/** The part of an activation difference that depends on f's pre-activation alone (diff-bounds.ts, diff-symbolic.ts). */

/** the unit roundoff of float64 */
export const U = 2 ** -53;

/** Range of act_g(s z + c) - act_f(z) for z in [l, u] (piecewise linear: check the breakpoints). */
export function activationGap(s: number, c: number, gRelu: boolean, fRelu: boolean, l: number, u: number): [number, number] {
  if (s === 1 && c === 0) {
    // exact, no rounding: z - relu(z) = min(z, 0) and relu(z) - z = max(-z, 0), both monotone
    if (gRelu === fRelu) return [0, 0];
    return gRelu ? [Math.max(-u, 0), Math.max(-l, 0)] : [Math.min(l, 0), Math.min(u, 0)];
  }
  const h = (z: number): number => {
    const v = s * z + c;
    return (gRelu ? Math.max(v, 0) : v) - (fRelu ? Math.max(z, 0) : z);
  };
  const pts = [l, u];
  if (l < 0 && u > 0) pts.push(0);
  if (s !== 0) {
    const b = -c / s;
    if (b > l && b < u) pts.push(b);
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const z of pts) {
    const v = h(z);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const slack = (Math.abs(lo) + Math.abs(hi) + Math.abs(s) * Math.max(Math.abs(l), Math.abs(u)) + Math.abs(c)) * 8 * U;
  return [lo - slack, hi + slack];
}
