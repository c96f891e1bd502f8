/**
 * Equivalence of two graph networks over a union of boxes: within epsilon (max over outputs of |f - g|) or
 * class-preserving (equiv-class.ts). Two methods, as on chains: the diff method (two graphs of the same structure:
 * the difference tensor bounded op by op) and the product method (any two graphs of the same input and output
 * shapes: one graph computing f - g, bounded by CROWN and optimised slopes); 'auto' takes the tighter of both per
 * output and sign. The answers come in the chain's LinfResult / ClassResult, so `equiv` prints both alike; every
 * witness is a point of the domain where plain evaluation of f and g (forwardGraph) breaks the claim.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { mulberry32 } from '../../model/rng.ts';
import { productGraph } from '../../model/graph/product.ts';
import { BoundRefused } from '../../bounds/graph/types.ts';
import type { Verdict } from '../verdict.ts';
import type { LinfResult } from '../equiv/equiv.ts';
import { alignGraphs } from './diff-align.ts';
import type { EquivPair } from './equiv-bounds.ts';
import { linfOnBox, proverOf, type BoxLinf, type GraphEquivOptions } from './equiv-linf.ts';

export { checkGraphClass } from './equiv-class.ts';
export type { GraphEquivOptions } from './equiv-linf.ts';

const methodName = (r: BoxLinf | undefined, method: string): string => `graph-${r?.diffRefused && method !== 'product' ? 'product' : method}`;

/**
 * Proves max |f - g| <= epsilon on every box, or refutes it with a re-checked witness; epsilon = 0: the proved bound
 * itself (verdict proved with that bound, as the chain's checkLinf gives it). Boxes in order; a refutation ends it.
 */
export function checkGraphLinf(f: Graph, g: Graph, boxes: Box[], epsilon: number, opts: GraphEquivOptions): LinfResult {
  const t0 = Date.now();
  const method = opts.method ?? 'auto';
  const p: EquivPair = { f, g, h: productGraph(f, g), align: alignGraphs(f, g) };
  const rng = mulberry32(opts.seed ?? 1);
  let bound = 0;
  let found = 0;
  let reason: string | undefined;
  let last: BoxLinf | undefined;
  const detail = { boxes: 0, alphaSides: 0, splitSides: 0, nodes: 0 } as Record<string, unknown> & { boxes: number; alphaSides: number; splitSides: number; nodes: number };
  for (const [i, box] of boxes.entries()) {
    const deadline = t0 + ((i + 1) * opts.timeoutMs) / boxes.length;
    let r: BoxLinf;
    try {
      r = linfOnBox(p, box, epsilon, { method, deadline, samples: opts.samples ?? 256, steps: opts.steps ?? 20, rng, prove: proverOf(opts), maxNodes: opts.maxNodes });
    } catch (e) {
      if (!(e instanceof BoundRefused)) throw e;
      reason = `bound refused: ${e.message}`;
      bound = Infinity;
      continue;
    }
    last = r;
    detail.boxes++;
    detail.alphaSides += r.alpha;
    detail.splitSides += r.split;
    detail.nodes += r.nodes;
    if (r.diffRefused) detail.diffRefused = r.diffRefused;
    found = Math.max(found, r.found);
    if (r.status === 'refuted') {
      const v: Verdict = { status: 'refuted', method: 'sampling', timeMs: Date.now() - t0, witness: r.x, detail: { ...detail, difference: r.found } };
      return { verdict: v, provedBound: Infinity, foundMax: found, boxes: detail.boxes };
    }
    bound = Math.max(bound, r.bound);
    if (r.status === 'unknown') reason ??= r.reason ?? 'unknown';
  }
  const timeMs = Date.now() - t0;
  const m = methodName(last, method);
  const verdict: Verdict = reason
    ? { status: 'unknown', method: m, timeMs, reason, detail: { ...detail, openBound: bound } }
    : { status: 'proved', method: m, timeMs, detail: { ...detail, bound } };
  // a bound above epsilon is still proved (Infinity where a box has none)
  return { verdict, provedBound: bound, foundMax: found, boxes: detail.boxes };
}
