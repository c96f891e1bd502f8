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
  const total = prop.regions.reduce((s, r) => s + r.unsafe.length, 0);
  let todo = total;
  for (const region of prop.regions) {
    if (left() <= 0) return done('unknown', { ...tally, open: 'timeout' });
    const bounds = graphCrownBounds(g, region.box);
    for (const conj of region.unsafe) {
      const share = left() / Math.max(1, todo--);
      opts.onProgress?.('branch and bound', tally.nodes, todo + 1, left());
      const x = refuteConjunction(g, region, conj, bounds, Date.now() + share, opts, tally);
      if (x) return done('sat', tally, x);
    }
  }
  return tally.open ? done('unknown', tally) : done('unsat', tally);
}

/** The constraints of a conjunction, most nearly impossible by CROWN first (c . y - rhs's lower bound highest). */
function byCrownMargin(g: Graph, conj: readonly LinearConstraint[], bounds: TensorBounds): LinearConstraint[] {
  const margin = conj.map((c) => lowerRows(g, bounds, g.output.name, outCoeffs(g, c), 1)[0] - c.rhs);
  return conj.map((c, i) => ({ c, m: margin[i], i })).sort((a, b) => b.m - a.m || a.i - b.i).map((e) => e.c);
}

/**
 * Proves the conjunction empty in the region (its work added to the tally; the tally's `open` set when it stays
 * open), or returns a counterexample found on the way.
 */
function refuteConjunction(g: Graph, region: VnnRegion, conj: readonly LinearConstraint[], bounds: TensorBounds, until: number, opts: GraphPropertyOptions, tally: Tally): Float64Array | undefined {
  if (conj.length === 0) {
    tally.open ??= 'a conjunction without constraints';
    return undefined;
  }
  const order = byCrownMargin(g, conj, bounds);
  let why: string | undefined;
  for (const [k, c] of order.entries()) {
    const share = (until - Date.now()) / (order.length - k);
    const r = proveGraphLinear(g, region.box, { coeffs: outCoeffs(g, c), rhs: c.rhs }, { deadline: Date.now() + share, maxNodes: opts.maxNodes, alpha: opts.alpha, bounds });
    tally.nodes += r.nodes;
    if (r.status === 'proved') return undefined;
    if (r.status === 'falsified' && r.x && violates(g, region, r.x)) return r.x;
    why ??= r.status === 'falsified' ? 'each constraint of a conjunction violated, none by one point' : r.reason;
  }
  tally.open ??= why ?? 'unknown';
  return undefined;
}

/** A constraint's coefficients over the whole flattened output (a property may name fewer outputs: zeros). */
function outCoeffs(g: Graph, c: LinearConstraint): Float64Array {
  const n = size(g.output.shape);
  if (c.coeffs.length === n) return c.coeffs;
  const a = new Float64Array(n);
  a.set(c.coeffs.subarray(0, n));
  return a;
}
