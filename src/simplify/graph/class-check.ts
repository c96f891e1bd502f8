/**
 * The claim of a class-preserving channel prune, proved about two graphs as read from their files (nothing about
 * how g was made is assumed): for every x in the domain, argmax g(x) = argmax f(x) (or argmin). Proved as
 * (1) f has one winner c on the whole domain: f_c(x) - f_j(x) > 0 for every j != c (s = -1 for argmin: s (f_c - f_j));
 * (2) g's winner is c there too, leading by more than the margin M: s (g_c(x) - g_j(x)) > M for every j != c.
 * Each is a property of one graph, proved by class-leads.ts (CROWN rows, then ReLU splitting). A final softmax or
 * log-softmax is dropped first (it keeps the winner): the margins are of the scores before it. The margin asks
 * slack of g (M = 0: g's winner is strict); it does not restrict where the claim holds. Before any proof, f and g
 * are evaluated on points of the domain: a point where the classes differ, or where g's lead is not above M while
 * f has one winner, refutes the claim with that point as a witness.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { samplePairs } from './sample-pairs.ts';
import { withoutSoftmax } from '../../verify/graph/equiv-class.ts';
import { classWinner } from '../../verify/tolerance.ts';
import { leadOf, provedLeads, type ClassOrder, type Leads } from './class-leads.ts';

export type { ClassOrder };

export const classClaim = (order: ClassOrder, margin: number): string =>
  `${order} g(x) = ${order} f(x) for every x in the domain: f's winner is one output c on all of it, and g's winner is c too, ahead of every other output by more than ${margin} (${order === 'argmax' ? 'higher' : 'lower'}; scores before a final softmax)`;

export interface GraphClassCheckOptions {
  /** both proofs together (f's lead gets half, g's the rest) */
  timeoutMs: number;
  /** points of the domain where f and g are compared (spread over the boxes) */
  samples: number;
  seed: number;
  /** ReLU-splitting subproblems per query at most (a work limit) */
  maxNodes?: number;
  onProgress?: (step: string, done: number, total: number) => void;
}

export interface GraphClassCheckResult {
  claim: string;
  verdict: { status: 'proved' | 'refuted' | 'unknown'; method: string; timeMs: number; reason?: string };
  /** the points compared, and the smallest leads of f's winner seen on them (in f and in g) */
  sampling: { points: number; minLeadF: number; minLeadG: number };
  witness?: number[];
  /** f's winner on the domain (when f has one on the samples) */
  winner?: number;
  /** per other output j, proved lower bounds of s (f_c - f_j) and s (g_c - g_j) over the domain (-Infinity: not
   * proved; a bound equal to 0, or to M for g, means strictly above it) */
  margins?: Array<{ output: number; f: number; g: number }>;
}

interface Sampled {
  points: number;
  winner: number;
  minLeadF: number;
  minLeadG: number;
  /** a point where f's strict winner is not g's winner */
  classDiff?: Float64Array;
  /** a point where f's winner is not the first point's, or is tied */
  fSplit?: Float64Array;
  /** a point where g's lead of the winner is not above the margin */
  gLow?: Float64Array;
}

/** f and g on the sampled points (the first of each kind of failure kept). */
function compareClasses(f: Graph, g: Graph, boxes: readonly Box[], order: ClassOrder, margin: number, o: GraphClassCheckOptions): Sampled {
  const r: Sampled = { points: 0, winner: -1, minLeadF: Infinity, minLeadG: Infinity };
  r.points = samplePairs(f, g, boxes, o.samples, o.seed, (pt, yf, yg) => classesAt(r, pt, yf, yg, order, margin), (d, t) => o.onProgress?.('class check: sampling', d, t));
  return r;
}

function classesAt(r: Sampled, pt: Float64Array, yf: Float64Array, yg: Float64Array, order: ClassOrder, margin: number): void {
  const wf = classWinner(yf, order);
  if (r.winner < 0) r.winner = wf.at;
  if (wf.lead > 0 && classWinner(yg, order).at !== wf.at) r.classDiff ??= pt;
  if (wf.at !== r.winner || !(wf.lead > 0)) r.fSplit ??= pt;
  const leadG = leadOf(yg, r.winner, order);
  if (!(leadG > margin)) r.gLow ??= pt;
  r.minLeadF = Math.min(r.minLeadF, leadOf(yf, r.winner, order));
  r.minLeadG = Math.min(r.minLeadG, leadG);
}

type Status = GraphClassCheckResult['verdict']['status'];

export function checkGraphClassPrune(f0: Graph, g0: Graph, boxes: readonly Box[], order: ClassOrder, margin: number, o: GraphClassCheckOptions): GraphClassCheckResult {
  const t0 = Date.now();
  const claim = classClaim(order, margin);
  const none = { points: 0, minLeadF: -Infinity, minLeadG: -Infinity };
  const result = (status: Status, method: string, reason: string | undefined, sampling: GraphClassCheckResult['sampling'], extra: Partial<GraphClassCheckResult> = {}): GraphClassCheckResult => ({
    claim,
    verdict: { status, method, timeMs: Date.now() - t0, ...(reason ? { reason } : {}) },
    sampling,
    ...extra,
  });
  if (size(f0.input.shape) !== size(g0.input.shape) || size(f0.output.shape) !== size(g0.output.shape)) {
    return result('refuted', 'shapes', `the networks take or give different sizes ([${f0.input.shape}] -> [${f0.output.shape}] against [${g0.input.shape}] -> [${g0.output.shape}])`, none);
  }
  if (!(margin >= 0 && Number.isFinite(margin))) throw new Error(`internal: checkGraphClassPrune: margin ${margin}`);
  const f = withoutSoftmax(f0);
  const g = withoutSoftmax(g0);
  const s = compareClasses(f, g, boxes, order, margin, o);
  const sampling = { points: s.points, minLeadF: s.minLeadF, minLeadG: s.minLeadG };
  const at = (x: Float64Array): Partial<GraphClassCheckResult> => ({ witness: [...x], winner: s.winner });
  if (s.classDiff) return result('refuted', 'sampling', `f and g pick different classes at a sampled point`, sampling, at(s.classDiff));
  if (s.fSplit) return result('unknown', 'sampling', `f has no single winner on the domain (a sampled point where output ${s.winner} does not lead strictly): this check proves the class only where f has one`, sampling, { winner: s.winner });
  if (s.gLow) return result('refuted', 'sampling', `g's lead of output ${s.winner} is not above ${margin} at a sampled point`, sampling, at(s.gLow));
  return proveBoth(f, g, boxes, order, margin, o, s.winner, (status, method, reason, extra) => result(status, method, reason, sampling, extra));
}

type Finish = (status: Status, method: string, reason: string | undefined, extra: Partial<GraphClassCheckResult>) => GraphClassCheckResult;

/** (1) then (2), each on one graph; a point a query found is re-evaluated on both before it refutes anything. */
function proveBoth(f: Graph, g: Graph, boxes: readonly Box[], order: ClassOrder, margin: number, o: GraphClassCheckOptions, c: number, finish: Finish): GraphClassCheckResult {
  const t0 = Date.now();
  const method = 'winner-margins';
  o.onProgress?.("class check: f's winner", 0, 2);
  const lf = provedLeads(f, boxes, c, order, 0, { deadline: t0 + o.timeoutMs / 2, maxNodes: o.maxNodes });
  if (lf.status !== 'proved') {
    if (lf.x && differ(f, g, lf.x, order)) return finish('refuted', method, 'f and g pick different classes at a point the proof of f found', { witness: [...lf.x], winner: c });
    const why = lf.status === 'falsified' ? `f's winner is not output ${c} everywhere (a point where it does not lead)` : `f's lead of output ${c} not proved: ${lf.reason}`;
    return finish('unknown', method, why, { winner: c, margins: marginsOf(c, lf, undefined) });
  }
  o.onProgress?.("class check: g's winner", 1, 2);
  const lg = provedLeads(g, boxes, c, order, margin, { deadline: t0 + o.timeoutMs, maxNodes: o.maxNodes });
  const margins = marginsOf(c, lf, lg);
  if (lg.status === 'proved') return finish('proved', method, undefined, { winner: c, margins });
  if (lg.x) {
    const why = differ(f, g, lg.x, order) ? 'f and g pick different classes' : `g's lead of output ${c} is not above ${margin}`;
    return finish('refuted', method, `${why} at a point the proof of g found`, { witness: [...lg.x], winner: c, margins });
  }
  return finish('unknown', method, `g's lead of output ${c} above ${margin} not proved: ${lg.reason}`, { winner: c, margins });
}

/** Whether f's strict winner at x is not g's (plain evaluation). */
function differ(f: Graph, g: Graph, x: Float64Array, order: ClassOrder): boolean {
  const wf = classWinner(forwardGraph(f, x), order);
  return wf.lead > 0 && classWinner(forwardGraph(g, x), order).at !== wf.at;
}

function marginsOf(c: number, lf: Leads, lg: Leads | undefined): GraphClassCheckResult['margins'] {
  const out: NonNullable<GraphClassCheckResult['margins']> = [];
  for (let j = 0; j < lf.lower.length; j++) if (j !== c) out.push({ output: j, f: lf.lower[j], g: lg ? lg.lower[j] : -Infinity });
  return out;
}
