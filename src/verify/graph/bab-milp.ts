/**
 * What ReLU splitting leaves to MILP: a subproblem with few unstable ReLUs left goes to graphMilp with its split
 * decisions fixed (its bounds recomputed under them first, for tighter big-M constants). The MILP's lower bound
 * closes it when above rhs; its point is a counterexample only once plain evaluation confirms it.
 */
import { milpAvailable } from '../search/milp.ts';
import { graphMilp } from './milp.ts';
import { goalValue, refreshSub, type BabContext, type Sub } from './bab-node.ts';
import { countUnstable } from './split-choice.ts';

export type MilpVerdict = { kind: 'closed' } | { kind: 'falsified'; x: Float64Array } | { kind: 'open'; sub: Sub };

/** Whether a subproblem is small enough for the MILP (and a solver is loaded). */
export function milpFits(ctx: BabContext, sub: Sub, maxUnstable: number): boolean {
  return maxUnstable > 0 && milpAvailable() && countUnstable(ctx.g, sub.bounds, sub.rec) <= maxUnstable;
}

/** The subproblem decided by MILP within timeLimitS, or left open (with its refreshed bounds). */
export function milpSub(ctx: BabContext, sub: Sub, timeLimitS: number): MilpVerdict {
  const fresh = sub.fresh ? sub : refreshSub(ctx, sub);
  if (!fresh || fresh.lower > ctx.goal.rhs) return { kind: 'closed' };
  const { tensor, coeffs, rhs } = ctx.goal;
  const r = graphMilp(ctx.g, ctx.box, fresh.bounds, { tensor, coeffs }, { timeLimitS, fixed: fresh.splits, cutoff: rhs });
  if (r.lower > rhs) return { kind: 'closed' };
  if (r.x && goalValue(ctx.g, ctx.goal, r.x) <= rhs && inBox(ctx, r.x)) return { kind: 'falsified', x: Float64Array.from(r.x) };
  return { kind: 'open', sub: fresh };
}

function inBox(ctx: BabContext, x: Float64Array): boolean {
  return x.every((v, i) => v >= ctx.box.lo[i] && v <= ctx.box.hi[i]);
}
