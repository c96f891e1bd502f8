/**
 * Falsifying a VNN-LIB property on a graph: seeded samples of each region's box, then projected sign-gradient
 * descent per conjunction on its most violated constraint (a conjunction holds when max_k (c_k . y - rhs_k) <= 0).
 * A point is returned only when plain evaluation satisfies a whole conjunction in its region.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import type { LinearConstraint, VnnRegion } from '../../formats/vnnlib.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { descend, startPoints, type Objective } from './attack.ts';
import { gradientAt } from './gradient.ts';

export interface AttackOptions {
  samples: number;
  starts: number;
  steps: number;
  seed: number;
  deadline: number;
}

const dot = (c: Float64Array, y: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i] * y[i];
  return s;
};

/** max_k (c_k . y - rhs_k): <= 0 exactly when y satisfies the conjunction. */
export function conjunctionSlack(conj: readonly LinearConstraint[], y: Float64Array): number {
  let m = -Infinity;
  for (const c of conj) m = Math.max(m, dot(c.coeffs, y) - c.rhs);
  return m;
}

const inBox = (box: Box, x: Float64Array): boolean => x.every((v, i) => v >= box.lo[i] && v <= box.hi[i]);

/** x is a counterexample: inside the box, and the plain output satisfies one of the region's conjunctions. */
export function violates(g: Graph, region: VnnRegion, x: Float64Array): boolean {
  if (!inBox(region.box, x)) return false;
  const y = forwardGraph(g, x);
  return region.unsafe.some((conj) => conjunctionSlack(conj, y) <= 0);
}

/** The descent objective of one conjunction: its most violated constraint's value and gradient. */
function conjunctionObjective(g: Graph, conj: readonly LinearConstraint[]): Objective {
  return (x) => {
    const y = forwardGraph(g, x);
    let k = 0;
    let m = -Infinity;
    conj.forEach((c, i) => {
      const v = dot(c.coeffs, y) - c.rhs;
      if (v > m) [m, k] = [v, i];
    });
    const c = new Float64Array(y.length);
    c.set(conj[k].coeffs.subarray(0, y.length));
    const { grad } = gradientAt(g, x, undefined, c);
    return { value: m, grad };
  };
}

/** A re-checked counterexample in the region, or undefined. */
export function attackRegion(g: Graph, region: VnnRegion, opts: AttackOptions): Float64Array | undefined {
  const pts = startPoints(region.box, Math.max(1, opts.samples), opts.seed);
  const slack = region.unsafe.map(() => ({ best: Infinity, x: pts[0] }));
  for (const x of pts) {
    const y = forwardGraph(g, x);
    for (let c = 0; c < region.unsafe.length; c++) {
      const s = conjunctionSlack(region.unsafe[c], y);
      if (s <= 0 && violates(g, region, x)) return x;
      if (s < slack[c].best) slack[c] = { best: s, x };
    }
    if (Date.now() > opts.deadline) return undefined;
  }
  for (let c = 0; c < region.unsafe.length; c++) {
    if (Date.now() > opts.deadline) return undefined;
    // from the closest sample and a few fresh points of the box
    const starts = [slack[c].x, ...startPoints(region.box, opts.starts, opts.seed + 1 + c).slice(1)];
    const r = descend(g, region.box, conjunctionObjective(g, region.unsafe[c]), starts, opts.steps, 0);
    if (r.value <= 0 && violates(g, region, r.x)) return r.x;
  }
  return undefined;
}
