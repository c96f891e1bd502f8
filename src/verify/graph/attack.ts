/**
 * Projected sign-gradient descent (PGD) over a box: from each start, steps of x <- clip(x - eta sign(grad f)), with
 * eta per coordinate a fraction of the box's width that shrinks linearly over the steps (large steps reach the
 * corners, where piecewise linear minima of a box usually lie; small ones settle inside a linear region). The best
 * point met over all starts is returned; a fixed schedule, no randomness: the same inputs give the same point.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import { gradientAt, type ValueGrad } from './gradient.ts';

export type Objective = (x: Float64Array) => ValueGrad;

export interface Descent {
  x: Float64Array;
  value: number;
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** Minimises f over the box from every start (each clipped into the box first), `steps` steps each. */
export function descend(_g: Graph, box: Box, f: Objective, starts: Float64Array[], steps: number, stop = -Infinity): Descent {
  let best: Descent = { x: Float64Array.from(box.lo), value: Infinity };
  for (const s of starts) {
    const r = descendFrom(box, f, s, steps, stop);
    if (r.value < best.value) best = r;
    if (best.value < stop) break;
  }
  return best;
}

function descendFrom(box: Box, f: Objective, start: Float64Array, steps: number, stop: number): Descent {
  const n = box.lo.length;
  const x = Float64Array.from(start, (v, i) => clamp(v, box.lo[i], box.hi[i]));
  let best: Descent = { x: Float64Array.from(x), value: Infinity };
  for (let k = 0; k <= steps; k++) {
    const { value, grad } = f(x);
    if (value < best.value) best = { x: Float64Array.from(x), value };
    if (k === steps || best.value < stop) break;
    const frac = 0.25 * (1 - k / steps) + 0.02;
    for (let i = 0; i < n; i++) {
      const w = box.hi[i] - box.lo[i];
      if (grad[i] !== 0) x[i] = clamp(x[i] - Math.sign(grad[i]) * frac * w, box.lo[i], box.hi[i]);
    }
  }
  return best;
}

/** Deterministic starting points: the centre, then uniform samples of the box from the seed. */
export function startPoints(box: Box, count: number, seed: number): Float64Array[] {
  const rng = mulberry32(seed);
  const out: Float64Array[] = [Float64Array.from(box.lo, (l, i) => 0.5 * l + 0.5 * box.hi[i])];
  while (out.length < count) out.push(Float64Array.from(box.lo, (l, i) => l + rng() * (box.hi[i] - l)));
  return out;
}

/** The objective c . T(x) of a graph tensor (the output by default) for descend. */
export function linearObjective(g: Graph, c: Float64Array, tensor?: string): Objective {
  return (x) => gradientAt(g, x, tensor, c);
}
