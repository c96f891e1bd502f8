/**
 * How far a network's outputs are from a VNN-LIB counterexample conjunction, and local descent toward one: the
 * falsification steps shared by the property search's sampling rounds and its split tree.
 */
import { forwardTrace, type Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { LinearConstraint } from '../../formats/vnnlib.ts';
import { inputGradient } from './search.ts';

/** How far y is from satisfying the conjunction (<= 0: satisfied). */
export function violation(conj: LinearConstraint[], y: ArrayLike<number>): number {
  return mostViolated(conj, y).v;
}

/** The constraint of the conjunction furthest from holding at y, and by how much (c . y - rhs). */
export function mostViolated(conj: LinearConstraint[], y: ArrayLike<number>): { c: LinearConstraint; v: number } {
  let worst = conj[0];
  let v = -Infinity;
  for (const c of conj) {
    let s = -c.rhs;
    for (let k = 0; k < c.coeffs.length; k++) s += c.coeffs[k] * y[k];
    if (s > v) {
      v = s;
      worst = c;
    }
  }
  return { c: worst, v };
}

/**
 * Sign-gradient descent on the most violated constraint, projected on the box. One forward pass per step: the
 * gradient is taken from the accepted point's trace and kept while steps are rejected (the point has not moved).
 */
export function descend(net: Network, box: Box, conj: LinearConstraint[], x0: Float64Array, steps = 30): Float64Array {
  const n = net.inputSize;
  const last = net.layers.length - 1;
  let x = x0.slice();
  let tr = forwardTrace(net, x, 1);
  let v = violation(conj, tr.post[last]);
  let g: Float64Array | null = null;
  let step = 0.25;
  for (let it = 0; it < steps && v > 0; it++) {
    if (!g) g = inputGradient(net, x, last, mostViolated(conj, tr.post[last]).c.coeffs, tr);
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) z[i] = Math.min(box.hi[i], Math.max(box.lo[i], x[i] - step * (box.hi[i] - box.lo[i]) * Math.sign(g[i])));
    const tz = forwardTrace(net, z, 1);
    const vz = violation(conj, tz.post[last]);
    if (vz < v) {
      x = z;
      tr = tz;
      v = vz;
      g = null;
    } else {
      step *= 0.5;
      if (step < 1e-7) break;
    }
  }
  return x;
}
