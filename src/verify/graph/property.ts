/**
 * VNN-LIB properties on graphs: is there an input in a region whose outputs satisfy one of its conjunctions of
 * c . y <= rhs? Falsify first (samples, then descent per conjunction: property-attack.ts); then each conjunction is
 * proved empty by proving one of its constraints impossible, c . y > rhs on the whole box (proveGraphLinear:
 * CROWN, optimised slopes, ReLU splitting), the constraint CROWN finds most nearly impossible first. The time limit
 * is shared: each conjunction gets the time left over those still to do. sat only with a re-checked
 * counterexample, unsat only when every conjunction of every region is proved empty, unknown otherwise.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { VnnProperty, VnnRegion, LinearConstraint } from '../../formats/vnnlib.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { lowerRows } from '../../bounds/graph/backward.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import type { PropertyResult } from '../property/property.ts';
import { proveGraphLinear } from './bab.ts';
import { attackRegion, violates } from './property-attack.ts';

export interface GraphPropertyOptions {
  timeoutMs: number;
  seed?: number;
  onProgress?: (phase: string, done: number, open: number, leftMs: number) => void;
  /** BaB subproblems per constraint at most (a work limit; default: the memory budget's) */
  maxNodes?: number;
  /** samples per region before descent (default 64) */
  samples?: number;
  /** descent starts and steps per conjunction (default 3 and 20) */
  starts?: number;
  steps?: number;
  /** optimised slopes in the branch and bound (default true) */
  alpha?: boolean;
}

interface Tally {
  nodes: number;
  /** why something stayed open (the first reason met) */
  open?: string;
}

export function decideGraphProperty(g: Graph, prop: VnnProperty, opts: GraphPropertyOptions): PropertyResult {
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutMs;
  const left = (): number => deadline - Date.now();
  const done = (result: PropertyResult['result'], tally: Tally, x?: Float64Array): PropertyResult => {
    const timeMs = Date.now() - t0;
    if (x) return { result, boxes: tally.nodes, timeMs, counterexample: { x: Array.from(x), y: Array.from(forwardGraph(g, x)) } };
    return result === 'unknown' ? { result, boxes: tally.nodes, timeMs, reason: tally.open ?? 'timeout' } : { result, boxes: tally.nodes, timeMs };
  };
  const tally: Tally = { nodes: 0 };
  const seed = opts.seed ?? 1;
  const attack = { samples: opts.samples ?? 64, starts: opts.starts ?? 3, steps: opts.steps ?? 20, deadline };
  for (const [i, region] of prop.regions.entries()) {
    opts.onProgress?.('attack', 0, prop.regions.length - i, left());
    const x = attackRegion(g, region, { ...attack, seed: seed + 1000 * i });
    if (x) return done('sat', tally, x);
  }
  const items = conjunctionsByMargin(g, prop, deadline);
  // a second round gives what the first left (the easy ones done) to those its share timed out
  for (let round = 0; round < 2 && items.length > 0; round++) {
    const again: Item[] = [];
    for (const [k, it] of items.entries()) {
      if (left() <= 0) return done('unknown', { ...tally, open: tally.open ?? 'timeout' });
      opts.onProgress?.(round === 0 ? 'branch and bound' : 'branch and bound, second round', tally.nodes, items.length - k, left());
      const r = refuteConjunction(g, it, Date.now() + left() / (items.length - k), opts, tally);
      if (r.x) return done('sat', tally, r.x);
      if (r.open === 'timeout') again.push(it);
      else if (r.open) tally.open ??= r.open;
    }
    if (tally.open) break;
    items.splice(0, items.length, ...again);
  }
  return items.length > 0 ? done('unknown', { ...tally, open: tally.open ?? 'timeout' }) : done('unsat', tally);
}

interface Item {
  region: VnnRegion;
  conj: readonly LinearConstraint[];
  bounds: TensorBounds;
  /** per constraint: CROWN's lower bound of c . y - rhs */
  margins: number[];
}

/** Every conjunction of every region, the most nearly proved by CROWN first (the hard ones get the time left). */
function conjunctionsByMargin(g: Graph, prop: VnnProperty, deadline: number): Item[] {
  const items: Item[] = [];
  for (const region of prop.regions) {
    const bounds = graphCrownBounds(g, region.box, { deadline });
    for (const conj of region.unsafe) {
      const margins = conj.map((c) => lowerRows(g, bounds, g.output.name, outCoeffs(g, c), 1)[0] - c.rhs);
      items.push({ region, conj, bounds, margins });
    }
  }
  const best = (it: Item): number => Math.max(-Infinity, ...it.margins);
  return items.map((it, i) => ({ it, i })).sort((a, b) => best(b.it) - best(a.it) || a.i - b.i).map((e) => e.it);
}

/**
 * Proves the conjunction empty in its region by one of its constraints, the CROWN-nearest first (work added to the
 * tally); or a counterexample found on the way, or why it stays open.
 */
function refuteConjunction(g: Graph, it: Item, until: number, opts: GraphPropertyOptions, tally: Tally): { x?: Float64Array; open?: string } {
  if (it.conj.length === 0) return { open: 'a conjunction without constraints' };
  const order = it.conj.map((c, i) => ({ c, i })).sort((a, b) => it.margins[b.i] - it.margins[a.i] || a.i - b.i);
  let why: string | undefined;
  for (const [k, { c }] of order.entries()) {
    const share = (until - Date.now()) / (order.length - k);
    const goal = { coeffs: outCoeffs(g, c), rhs: c.rhs };
    const r = proveGraphLinear(g, it.region.box, goal, { deadline: Date.now() + share, maxNodes: opts.maxNodes, alpha: opts.alpha, bounds: it.bounds });
    tally.nodes += r.nodes;
    if (r.status === 'proved') return {};
    if (r.status === 'falsified' && r.x && violates(g, it.region, r.x)) return { x: r.x };
    why ??= r.status === 'falsified' ? 'each constraint of a conjunction violated, none by one point' : r.reason;
  }
  return { open: why ?? 'unknown' };
}

/** A constraint's coefficients over the whole flattened output (a property may name fewer outputs: zeros). */
function outCoeffs(g: Graph, c: LinearConstraint): Float64Array {
  const n = size(g.output.shape);
  if (c.coeffs.length === n) return c.coeffs;
  const a = new Float64Array(n);
  a.set(c.coeffs.subarray(0, n));
  return a;
}
