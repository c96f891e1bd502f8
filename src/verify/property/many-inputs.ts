/**
 * A property with many inputs (an MNIST ball), where input splitting settles nothing: a conjunction is ruled out on
 * a region when the CROWN bound of one of its constraints already does it (slopes optimised, a quarter of the time
 * at most); else (single-constraint conjunctions) by branch and bound on ReLU phases, one search per open
 * constraint, taking turns, for most of the time; what is left goes to an exact MILP: max over the region of
 * rhs - c . y < 0 proves it, and a solver point where it is >= 0 is a counterexample once plain evaluation confirms
 * it (`found`, the caller's check).
 */
import type { Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { LinearConstraint, VnnProperty } from '../../formats/vnnlib.ts';
import { milpAvailable, milpLinearSign } from '../search/milp.ts';
import { ReluBab } from '../search/relu-bab.ts';
import { alphaCrownBounds } from '../../bounds/alpha.ts';
import { MEMORY_LIMIT } from '../search/limits.ts';
import { descend } from '../search/counterexample.ts';
import { constraintLower } from '../search/input-split.ts';
import type { PropertyOptions, PropertyResult } from './types.ts';

/**
 * The share of the time for ReLU splitting before MILP, and the slice each open constraint's search runs before
 * the next one's turn.
 */
const BAB_SHARE = 0.9;
const BAB_SLICE_MS = 250;

/** One constraint left open on a region (c . y > rhs is to be proved), with f's bounds there. */
interface OpenConstraint {
  box: Box;
  bounds: NetworkBounds;
  c: LinearConstraint;
}

/** The property decided as above; t0: when the caller's search began (the time limit counts from it). */
export function decideManyInputs(net: Network, prop: VnnProperty, opts: PropertyOptions, t0: number, found: (x: Float64Array) => PropertyResult | null): PropertyResult {
  const { open: byBounds, undecidable } = openConstraints(net, prop, opts, t0);
  let open = byBounds;
  // ReLU splitting: every open constraint's search in turn, a slice each, until all are decided or their share of
  // the time (all of it without a MILP solver) is used
  let babNodes = 0;
  // a ReLU-splitting search stopped by its memory or work limit (the MILP may still decide what it left)
  let babLimit: string | undefined;
  if (open.length > 0) {
    const r = reluSplitting(net, prop, open, opts, t0, found);
    if ('result' in r) return r;
    ({ open, babNodes, babLimit } = r);
  }
  const boxes = prop.regions.length + babNodes;
  if (open.length === 0 && !undecidable) return { result: 'unsat', boxes, timeMs: Date.now() - t0 };
  if (!milpAvailable()) return { result: 'unknown', boxes, timeMs: Date.now() - t0, reason: babLimit ?? 'bounds too loose and no MILP solver loaded' };
  const m = milpRounds(net, open, opts, t0, found);
  if ('result' in m) return m;
  if (!undecidable && !m.stuck && m.pending.length === 0) return { result: 'unsat', boxes, timeMs: Date.now() - t0 };
  const reason = undecidable
    ? 'multi-constraint conjunction with many inputs'
    : m.stuck
      ? 'an exact MILP ended early without a verdict (as when its optimum lies within the solver tolerance of the threshold)'
      : babLimit ?? 'timeout';
  return { result: 'unknown', boxes, timeMs: Date.now() - t0, reason };
}

/** The constraints the bounds leave open, per region; undecidable: an open conjunction of several constraints. */
function openConstraints(net: Network, prop: VnnProperty, opts: PropertyOptions, t0: number): { open: OpenConstraint[]; undecidable: boolean } {
  const open: OpenConstraint[] = [];
  let undecidable = false;
  const alphaSteps = opts.alphaSteps ?? 8;
  for (const r of prop.regions) {
    let fb = opts.boundsFn(net, r.box);
    const closed = (c: LinearConstraint): boolean => constraintLower(net, r.box, fb, c, opts.outputLinearLower, 2 * alphaSteps) > 0;
    let openConj = r.unsafe.filter((conj) => !conj.some(closed));
    // slopes optimised per neuron tighten every layer (on MNIST 256x2 prop_0_0.03: 4 open constraints -> 1, in
    // 0.2 s), and every node of the branch and bound and the MILP's big-M constants inherit them; a quarter of the
    // time at most. A conjunction already ruled out stays ruled out, so only the open ones are bounded again.
    if (alphaSteps > 0 && openConj.length > 0) {
      fb = alphaCrownBounds(net, r.box, fb, alphaSteps, t0 + 0.25 * opts.timeoutMs);
      openConj = openConj.filter((conj) => !conj.some(closed));
    }
    for (const conj of openConj) {
      if (conj.length === 1) open.push({ box: r.box, bounds: fb, c: conj[0] });
      else undecidable = true;
    }
  }
  return { open, undecidable };
}

/** ReLU splitting of every open constraint in turn; a counterexample ends it (the result), else what is left open
 * for the MILP, the nodes bounded, and a search's limit if one stopped it. */
function reluSplitting(
  net: Network,
  prop: VnnProperty,
  open: OpenConstraint[],
  opts: PropertyOptions,
  t0: number,
  found: (x: Float64Array) => PropertyResult | null,
): PropertyResult | { open: OpenConstraint[]; babNodes: number; babLimit?: string } {
  const babEnd = t0 + (milpAvailable() ? BAB_SHARE : 1) * opts.timeoutMs;
  const babOpts = { ...(opts.maxOpen !== undefined ? { maxOpen: opts.maxOpen } : {}), ...(opts.maxBoxes !== undefined ? { maxNodes: opts.maxBoxes } : {}) };
  const searches = open.map((o) => ({ o, bab: new ReluBab(net, o.box, o.bounds, o.c.coeffs, -o.c.rhs, babOpts) }));
  let pending = searches;
  // left to the MILP: searches that can make no more progress, and witnesses of c . y <= rhs that plain
  // evaluation does not confirm as counterexamples (the value sits exactly on the threshold)
  const toMilp: typeof pending = [];
  while (pending.length > 0 && Date.now() < babEnd) {
    const next: typeof pending = [];
    for (const s of pending) {
      const v = s.bab.run(Math.min(babEnd, Date.now() + BAB_SLICE_MS));
      if (v === 'refuted' && s.bab.witness) {
        const hit = found(s.bab.witness);
        // boxes: the regions and the nodes bounded, as for a verdict of unsat
        if (hit) return { ...hit, boxes: prop.regions.length + searches.reduce((t, q) => t + q.bab.nodes, 0) };
        toMilp.push(s);
      } else if (v === 'unknown') (s.bab.exhausted ? toMilp : next).push(s);
      if (Date.now() >= babEnd) {
        next.push(...pending.slice(pending.indexOf(s) + 1));
        break;
      }
    }
    pending = next;
  }
  const babLimit = searches.find((s) => s.bab.limit === MEMORY_LIMIT)?.bab.limit ?? searches.find((s) => s.bab.limit)?.bab.limit;
  return { open: [...pending, ...toMilp].map((s) => s.o), babNodes: searches.reduce((t, s) => t + s.bab.nodes, 0), ...(babLimit !== undefined ? { babLimit } : {}) };
}

/** Two rounds of MILP: every query with a share of half the time (most are easy), then the ones left with all the
 * rest. A counterexample ends it; else the queries still open and whether one ended early without a verdict. */
function milpRounds(
  net: Network,
  open: OpenConstraint[],
  opts: PropertyOptions,
  t0: number,
  found: (x: Float64Array) => PropertyResult | null,
): PropertyResult | { pending: OpenConstraint[]; stuck: boolean } {
  const last = net.layers.length - 1;
  let pending = open;
  let stuck = false;
  for (let round = 0; round < 2 && pending.length > 0; round++) {
    const unresolved: OpenConstraint[] = [];
    const roundEnd = round === 0 ? t0 + 0.5 * opts.timeoutMs + 0.5 * (Date.now() - t0) : t0 + opts.timeoutMs;
    for (let i = 0; i < pending.length; i++) {
      const left = roundEnd - Date.now();
      if (left <= 0) {
        unresolved.push(...pending.slice(i));
        break;
      }
      const { box, bounds, c } = pending[i];
      const neg = Float64Array.from(c.coeffs, (v) => -v);
      const limit = left / (pending.length - i);
      const r = milpLinearSign(net, box, bounds, last, neg, c.rhs, limit);
      if (r.status === 'refuted' && r.witness) {
        const hit = found(r.witness);
        if (hit) return hit;
      }
      // the solver's point was not a counterexample in plain evaluation (the optimum is within its tolerance of
      // the threshold): a descent from it may still cross
      if (r.near) {
        const hit = found(descend(net, box, [c], r.near, 200));
        if (hit) return hit;
      }
      // only a query stopped by its time limit may do better with more; one that ended early would end the same way
      if (r.status !== 'proved' && r.timeMs >= 0.9 * limit) unresolved.push(pending[i]);
      else if (r.status !== 'proved') stuck = true;
    }
    pending = unresolved;
  }
  return { pending, stuck };
}
