/**
 * f and g evaluated side by side on seeded points of the domain, a batch per forward pass: what both final checks
 * compare before any proof. Each point comes with both outputs.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { samplePoints } from '../../verify/graph/census-sites.ts';

/** Points evaluated per forward pass. */
const BATCH = 16;

export type PairVisit = (point: Float64Array, yf: Float64Array, yg: Float64Array) => void;

/** Calls visit for `samples` points spread over the boxes; returns how many; progress after each batch. */
export function samplePairs(f: Graph, g: Graph, boxes: readonly Box[], samples: number, seed: number, visit: PairVisit, progress?: (done: number, total: number) => void): number {
  const per = Math.max(1, Math.ceil(samples / boxes.length));
  const n = size(f.input.shape);
  const m = size(f.output.shape);
  let points = 0;
  for (const [k, box] of boxes.entries()) {
    const pts = samplePoints(box, per, seed + 7919 * k);
    for (let p = 0; p < pts.length; p += BATCH) {
      const chunk = pts.slice(p, p + BATCH);
      const x = new Float64Array(chunk.length * n);
      chunk.forEach((pt, j) => x.set(pt, j * n));
      const yf = forwardGraph(f, x, chunk.length);
      const yg = forwardGraph(g, x, chunk.length);
      chunk.forEach((pt, j) => visit(pt, yf.subarray(j * m, (j + 1) * m), yg.subarray(j * m, (j + 1) * m)));
      points += chunk.length;
      progress?.(points, per * boxes.length);
    }
  }
  return points;
}
