/**
 * proveGraphLinear: is coeffs . T(x) > rhs for every x in the box? CROWN bounds, optimised slopes, then ReLU
 * splitting branch and bound: the open subproblem with the lowest lower bound is split on the ReLU with the best
 * BaBSR-like score (split-choice.ts) into its active and inactive sides, each bounded anew downstream of the split
 * (bab-node.ts); one with no unstable ReLU left is bounded once more with every tensor recomputed under all its
 * decisions, and is left unknown if that does not close it; one with few unstable ReLUs left goes to MILP with
 * its decisions fixed (bab-milp.ts). A subproblem closes when its lower bound exceeds rhs or its decisions cannot hold. Counterexamples
 * are tried at each relaxation's minimising corner and by projected descent from the root's, and reported only
 * once plain evaluation confirms them. The tree depends on the bounds alone; the deadline only cuts it off, and
 * a deadline, work limit or memory limit gives 'unknown', never 'proved'.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { size } from '../../model/graph/shape.ts';
import { MaxHeap } from '../search/heap.ts';
import { BOX_LIMIT, MEMORY_LIMIT, openCap } from '../search/limits.ts';
import { descend, linearObjective, startPoints } from './attack.ts';
import { tensorName } from './gradient.ts';
import { boundSub, childSub, goalValue, newContext, refreshSub, type BabContext, type Sub } from './bab-node.ts';
import { pickSplit } from './split-choice.ts';
import { milpFits, milpSub, type MilpVerdict } from './bab-milp.ts';

export interface LinearGoal {
  tensor?: string;
  coeffs: Float64Array;
  rhs: number;
}

export interface BabOptions {
  /** Date.now() ms */
  deadline: number;
  /** subproblems bounded at most (a work limit: the same stopping point on any machine) */
  maxNodes?: number;
  /** optimised slopes on every subproblem (default true) */
  alpha?: boolean;
  /** sound bounds of every tensor over the box (default: a CROWN pass) */
  bounds?: TensorBounds;
  /** after a split: keep the parent's other bounds (default) or recompute those downstream of the split */
  intermediate?: 'keep' | 'recompute';
  /** a subproblem with at most this many unstable ReLUs left goes to MILP, when a solver is loaded (default 40) */
  milpMaxUnstable?: number;
  /** seconds per MILP at most (default 20; never past the deadline) */
  milpTimeS?: number;
  /** descent steps from the root's corner (default 20) */
  attackSteps?: number;
}

export interface BabResult {
  status: 'proved' | 'falsified' | 'unknown';
  x?: Float64Array;
  nodes: number;
  reason?: string;
  /** the proved lower bound of coeffs . T over the box (-Infinity when none) */
  lower: number;
}

/** Bytes one open subproblem may hold: every tensor's lo, hi and mag (children share what they reuse). */
function subBytes(g: Graph): number {
  let n = 0;
  for (const s of g.shapes.values()) n += size(s);
  return 24 * n + 4096;
}

export function proveGraphLinear(g: Graph, box: Box, goal: LinearGoal, opts: BabOptions): BabResult {
  const ctx = newContext(g, box, { tensor: tensorName(g, goal.tensor), coeffs: goal.coeffs, rhs: goal.rhs }, opts.alpha ?? true, opts.intermediate === 'recompute');
  const root = boundSub(ctx, opts.bounds ?? graphCrownBounds(g, box, { deadline: opts.deadline }), new Map(), 0);
  if (root.lower > goal.rhs) return { status: 'proved', nodes: 1, lower: root.lower };
  const x = rootAttack(ctx, root, opts.attackSteps ?? 20);
  if (x) return { status: 'falsified', x, nodes: 1, lower: -Infinity };
  return search(ctx, root, opts);
}

/** The root's corner, then descent from it and the box's centre: a confirmed violation or undefined. */
function rootAttack(ctx: BabContext, root: Sub, steps: number): Float64Array | undefined {
  const { g, box, goal } = ctx;
  const corner = confirmed(ctx, root.rec.xStar);
  if (corner || steps <= 0) return corner;
  const starts = [root.rec.xStar!, ...startPoints(box, 1, 1)];
  const best = descend(g, box, linearObjective(g, goal.coeffs, goal.tensor), starts, steps, goal.rhs);
  return confirmed(ctx, best.x);
}

function confirmed(ctx: BabContext, x: Float64Array | undefined): Float64Array | undefined {
  return x && goalValue(ctx.g, ctx.goal, x) <= ctx.goal.rhs ? Float64Array.from(x) : undefined;
}

/** MILP on a small enough subproblem not tried before (a subproblem it left open is split instead). */
function tryMilp(ctx: BabContext, sub: Sub, opts: BabOptions, tried: WeakSet<Sub>): MilpVerdict | undefined {
  if (tried.has(sub) || !milpFits(ctx, sub, opts.milpMaxUnstable ?? 40)) return undefined;
  const leftS = (opts.deadline - Date.now()) / 1000;
  const r = milpSub(ctx, sub, Math.max(0.1, Math.min(opts.milpTimeS ?? 20, leftS)));
  if (r.kind === 'open') tried.add(r.sub);
  return r;
}

function search(ctx: BabContext, root: Sub, opts: BabOptions): BabResult {
  const open = new MaxHeap<Sub>();
  open.push(-root.lower, root);
  const cap = openCap(subBytes(ctx.g));
  const maxNodes = opts.maxNodes ?? Infinity;
  let nodes = 1;
  const milpTried = new WeakSet<Sub>();
  const unknown = (reason: string): BabResult => ({ status: 'unknown', nodes, reason, lower: Math.min(-open.peekKey(), root.lower) });
  while (open.size > 0) {
    if (Date.now() > opts.deadline) return unknown('timeout');
    if (nodes + 2 > maxNodes) return unknown(BOX_LIMIT);
    if (open.size + 2 > cap) return unknown(MEMORY_LIMIT);
    const popped = open.pop()!;
    const m = tryMilp(ctx, popped, opts, milpTried);
    if (m) nodes++;
    if (m?.kind === 'closed') continue;
    if (m?.kind === 'falsified') return { status: 'falsified', x: m.x, nodes, lower: -Infinity };
    const sub = m?.kind === 'open' ? m.sub : popped;
    const pick = pickSplit(ctx.g, sub.bounds, sub.rec);
    if (!pick && sub.fresh) {
      open.push(-sub.lower, sub);
      return unknown('no unstable ReLU left to split');
    }
    const children = pick ? ([1, -1] as const).map((sign) => childSub(ctx, sub, pick.node, pick.index, sign)) : [refreshSub(ctx, sub)];
    for (const child of children) {
      nodes++;
      if (!child || child.lower > ctx.goal.rhs) continue;
      const x = confirmed(ctx, child.rec.xStar);
      if (x) return { status: 'falsified', x, nodes, lower: -Infinity };
      open.push(-child.lower, child);
    }
  }
  return { status: 'proved', nodes, lower: ctx.goal.rhs };
}
