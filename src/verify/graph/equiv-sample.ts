/**
 * Witnesses for graph equivalence: seeded samples of a box evaluated by forwardGraph on both graphs, and projected
 * gradient descent on the product graph from the best of them. Every point a caller reports is re-evaluated on f
 * and g themselves (never on the product graph).
 */
import type { Graph } from '../../model/graph/types.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { samplePoints, type Box } from '../../model/box.ts';
import { classChanged } from '../tolerance.ts';
import { descend, linearObjective } from './attack.ts';

/** max over outputs of |f(x) - g(x)| at one point, by plain evaluation (NaN counts as Infinity). */
export function absDiffAt(f: Graph, g: Graph, x: Float64Array): number {
  const a = forwardGraph(f, x);
  const b = forwardGraph(g, x);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i] - b[i]);
    if (Number.isNaN(v)) return Infinity;
    if (v > m) m = v;
  }
  return m;
}

/** Whether the class claim fails at x (f's winner leads by >= margin, g's winner is another output). */
export function classBrokenAt(f: Graph, g: Graph, x: Float64Array, order: 'argmax' | 'argmin', margin: number): boolean {
  return classChanged(forwardGraph(f, x), forwardGraph(g, x), order, margin);
}

export interface Samples {
  /** the points, [count, ...input] row-major */
  xs: Float64Array;
  count: number;
  /** f's and g's outputs at them */
  yf: Float64Array;
  yg: Float64Array;
}

/** `count` seeded points of the box (its centre first) and both graphs' outputs there, in batches. */
export function sampleBox(f: Graph, g: Graph, box: Box, count: number, rng: () => number): Samples {
  const n = box.lo.length;
  const xs = samplePoints(box, Math.max(1, count), rng);
  for (let i = 0; i < n; i++) xs[i] = 0.5 * box.lo[i] + 0.5 * box.hi[i];
  const c = Math.max(1, count);
  return { xs, count: c, yf: forwardGraph(f, xs, c), yg: forwardGraph(g, xs, c) };
}

export const pointOf = (s: Samples, k: number): Float64Array => s.xs.slice((k * s.xs.length) / s.count, ((k + 1) * s.xs.length) / s.count);

/** The sample of largest sign * (f_k - g_k). */
export function bestSample(s: Samples, k: number, sign: number): number {
  const m = s.yf.length / s.count;
  let best = 0;
  for (let p = 1; p < s.count; p++) if (sign * (s.yf[p * m + k] - s.yg[p * m + k]) > sign * (s.yf[best * m + k] - s.yg[best * m + k])) best = p;
  return best;
}

/** The sample of largest |f - g| over all outputs, and that value. */
export function worstSample(s: Samples): { index: number; value: number } {
  const m = s.yf.length / s.count;
  let index = 0;
  let value = -1;
  for (let p = 0; p < s.count; p++) {
    for (let k = 0; k < m; k++) {
      const d = Math.abs(s.yf[p * m + k] - s.yg[p * m + k]);
      const v = Number.isNaN(d) ? Infinity : d;
      if (v > value) [index, value] = [p, v];
    }
  }
  return { index, value };
}

/** Minimises c . T(x) of graph h over the box from the given starts (PGD): the end point. */
export function descendLinear(h: Graph, box: Box, c: Float64Array, starts: Float64Array[], steps: number): Float64Array {
  return descend(h, box, linearObjective(h, c), starts, steps).x;
}

export const outputs = (f: Graph): number => size(f.output.shape);
