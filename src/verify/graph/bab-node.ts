/**
 * One subproblem of the ReLU-splitting branch and bound on a graph: the box with some ReLU inputs' signs decided,
 * its bounds (the parent's with the split input clamped, or with the tensors downstream of the split recomputed and
 * intersected with the parent's: on oval21's cifar_base the clamp alone proves as much per second), and the sound
 * lower bound of the goal's linear function there (CROWN, then optimised slopes when asked). The CROWN pass's
 * record gives the split scores and the relaxation's minimising corner, a candidate counterexample.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { graphSplitBounds } from '../../bounds/graph/crown.ts';
import { lowerRows, newRecord, type BackRecord } from '../../bounds/graph/backward.ts';
import { graphObjectiveBound } from '../../bounds/graph/objective.ts';
import { forwardAll } from '../../model/graph/forward.ts';
import { upstreamOf } from './split-choice.ts';

export interface Goal {
  /** the tensor (default: the graph output) */
  tensor: string;
  coeffs: Float64Array;
  rhs: number;
}

export interface Sub {
  bounds: TensorBounds;
  /** decisions per ReLU-like node: +1 active, -1 inactive, 0 free */
  splits: Map<string, Int8Array>;
  /** sound lower bound of coeffs . T over the subproblem */
  lower: number;
  rec: BackRecord;
  depth: number;
  /** every tensor recomputed under all of its decisions (not kept from an ancestor) */
  fresh: boolean;
}

export interface BabContext {
  g: Graph;
  box: Box;
  goal: Goal;
  alpha: boolean;
  upstream: Map<string, Set<string>>;
  all: Set<string>;
  /** recompute the tensors downstream of each split (tighter, far slower) instead of keeping the parent's */
  recompute: boolean;
}

export function newContext(g: Graph, box: Box, goal: Goal, alpha: boolean, recompute: boolean): BabContext {
  return { g, box, goal, alpha, upstream: upstreamOf(g), recompute, all: new Set([g.input.name, ...g.nodes.map((n) => n.output)]) };
}

/** coeffs . T(x) by plain evaluation (what a counterexample must be confirmed by). */
export function goalValue(g: Graph, goal: Goal, x: Float64Array): number {
  const y = forwardAll(g, x, 1).get(goal.tensor)!;
  let v = 0;
  for (let i = 0; i < y.length; i++) v += goal.coeffs[i] * y[i];
  return v;
}

/** The lower bound of a subproblem's bounds and the record of its CROWN pass. */
export function boundSub(ctx: BabContext, b: TensorBounds, splits: Map<string, Int8Array>, depth: number, fresh = false): Sub {
  const { g, box, goal } = ctx;
  const rec = newRecord();
  let lower = lowerRows(g, b, goal.tensor, goal.coeffs, 1, undefined, rec)[0];
  if (ctx.alpha && !(lower > goal.rhs)) {
    lower = Math.max(lower, graphObjectiveBound(g, box, { node: goal.tensor, coeffs: goal.coeffs }, { bounds: b, alpha: { iterations: 8 } }));
  }
  return { bounds: b, splits, lower, rec, depth, fresh };
}

/** A child of `parent` with ReLU `node`'s input element `index` decided (+1: >= 0, -1: <= 0); null when empty. */
export function childSub(ctx: BabContext, parent: Sub, node: string, index: number, sign: 1 | -1): Sub | null {
  const splits = new Map(parent.splits);
  const d = Int8Array.from(splits.get(node) ?? new Int8Array(parent.bounds.get(inputOf(ctx.g, node))!.lo.length));
  d[index] = sign;
  splits.set(node, d);
  // 'keep': every tensor as the parent had it, only the split input clamped (one backward pass per child)
  const reuse = ctx.recompute ? ctx.upstream.get(node) : ctx.all;
  const b = graphSplitBounds(ctx.g, ctx.box, { parent: parent.bounds, reuse, splits });
  return b ? boundSub(ctx, b, splits, parent.depth + 1) : null;
}

/**
 * The subproblem with every tensor recomputed under all its decisions, intersected with what it had: kept bounds
 * know a decision only at its own ReLU, recomputed ones carry it downstream (and may show it cannot hold: null).
 */
export function refreshSub(ctx: BabContext, sub: Sub): Sub | null {
  const b = graphSplitBounds(ctx.g, ctx.box, { parent: sub.bounds, splits: sub.splits });
  return b ? boundSub(ctx, b, sub.splits, sub.depth, true) : null;
}

function inputOf(g: Graph, node: string): string {
  return g.nodes.find((n) => n.name === node)!.inputs[0];
}
