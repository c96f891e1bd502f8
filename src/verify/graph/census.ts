/**
 * The phase census on graphs: for every ReLU-like node (relu, leakyrelu, prelu: the input's sign; clip: the side
 * of its lower kink, or its upper one when it has none below), every element of its input proved never above the
 * kink on the boxes, always above it, witnessed on both sides by evaluated points, or unknown; and per channel.
 *
 * 1. Sampling (census-sites.ts): centre, extreme and random corners, uniform points of each box, in batches.
 * 2. One CROWN pass per box (census-prove.ts) proves what it can.
 * 3. The open claims, the most promising first, until the deadline: each one's own CROWN row (with the bounds
 *    tightened so far) and its minimising corner as a witness candidate, a few claims' corners per forward pass;
 *    then optimised slopes for those still open.
 * 4. With time left, gradient descent (census-attack.ts) seeks witnesses against the claims still open.
 * Deterministic for given options except where the deadline cuts a step; `reason` says which.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import { size } from '../../model/graph/shape.ts';
import { BoundRefused } from '../../bounds/graph/types.ts';
import { censusSites, newWitnesses, recordBatch, samplePoints, type Site, type Witnesses } from './census-sites.ts';
import { alphaOnBox, boxBounds, candidates, cornerClaims, provedAll, provedOn, type Attempt, type BoxBounds, type Candidate } from './census-prove.ts';
import { attackCandidate } from './census-attack.ts';
import { noWork, tally, type GraphCensus, type Work } from './census-tally.ts';

export type { Counts, GraphCensus, LayerCensus, Work } from './census-tally.ts';

export interface GraphCensusOptions {
  timeoutMs: number;
  /** sampled points per box (default 64): centre, extreme corners, then uniform points and random corners */
  samples?: number;
  /** optimised slopes for the open claims (default true) */
  alpha?: boolean;
  seed?: number;
  /** gradient-descent witness search on the claims left open: steps per start (default 8; 0: none) */
  attackSteps?: number;
  /** a work limit: at most this many claims tried in each step after the CROWN pass (default: no limit), so the
   * census is the same on any machine when the deadline is generous */
  maxClaims?: number;
  onProgress?: (phase: string, done: number, total: number, leftMs: number) => void;
  /** only these ReLU-like nodes (a check re-proving some facts needs no others) */
  nodes?: ReadonlySet<string>;
}

/** Points evaluated per forward pass while sampling. */
const BATCH = 16;
/** Claims whose corners are evaluated in one forward pass (a batch halves the cost per point). */
const CORNER_BATCH = 8;

interface Run {
  readonly g: Graph;
  readonly boxes: readonly Box[];
  readonly sites: readonly Site[];
  readonly w: Witnesses;
  readonly deadline: number;
  readonly opts: GraphCensusOptions;
  readonly work: Work;
}

const left = (r: Run): number => r.deadline - Date.now();
const progress = (r: Run, phase: string, done: number, total: number): void => r.opts.onProgress?.(phase, done, total, Math.max(0, left(r)));

function checkBoxes(g: Graph, boxes: readonly Box[]): void {
  const n = size(g.input.shape);
  if (boxes.length === 0) throw new Error('internal: a census needs at least one box');
  for (const b of boxes) if (b.lo.length !== n || b.hi.length !== n) throw new Error(`internal: a box of ${b.lo.length} values for an input of ${n}`);
}

/** Step 1; false when the deadline cut it. */
function sample(r: Run): boolean {
  const per = r.opts.samples ?? 64;
  const seed = r.opts.seed ?? 1;
  for (let k = 0; k < r.boxes.length; k++) {
    const pts = samplePoints(r.boxes[k], per, seed + 1000003 * k);
    for (let p = 0; p < pts.length; p += BATCH) {
      if (left(r) <= 0) return false;
      recordBatch(r.g, r.sites, r.w, pts.slice(p, p + BATCH));
      r.work.samples += Math.min(BATCH, pts.length - p);
      progress(r, 'sample', k * per + Math.min(pts.length, p + BATCH), r.boxes.length * per);
    }
  }
  return true;
}

const settled = (r: Run, bbs: readonly BoxBounds[], c: Candidate): boolean => {
  const against = c.dir === 'never' ? r.w.above : r.w.below;
  return against[c.site][c.index] >= 0 || provedAll(bbs, r.sites[c.site], c.index, c.dir);
};

/** A step on a few claims at once (each on the boxes that do not prove it yet), an outcome per claim. */
type Step = (cands: readonly Candidate[]) => Attempt[];

/**
 * One claim at a time on the boxes that do not prove it yet: a proof must hold on all (it stops at the first
 * failure), a witness may come from any (a search goes on to the next box).
 */
function perBox(r: Run, bbs: readonly BoxBounds[], one: (bb: BoxBounds, c: Candidate) => Attempt, search: boolean): Step {
  const claim = (c: Candidate): Attempt => {
    for (const bb of bbs) {
      if (provedOn(bb, r.sites[c.site], c.index, c.dir)) continue;
      const a = one(bb, c);
      if (a === 'witnessed' || (a === 'open' && !search)) return a;
    }
    return search ? 'open' : 'proved';
  };
  return (cands) => cands.map(claim);
}

/** The step with a bound refused on the way leaving its claims open (they keep their CROWN-pass bounds). */
function guarded(step: Step): Step {
  return (cands) => {
    try {
      return step(cands);
    } catch (e) {
      if (e instanceof BoundRefused) return cands.map((): Attempt => 'open');
      throw e;
    }
  };
}

/**
 * A step over the claims in order, `chunk` at a time, skipping those settled meanwhile; returns the claims left
 * open (the untried ones too when the deadline or the work limit cuts the pass) and which did.
 */
function pass(r: Run, bbs: readonly BoxBounds[], list: readonly Candidate[], name: string, step: Step, chunk: number): { open: Candidate[]; cut?: string } {
  const open: Candidate[] = [];
  const most = r.opts.maxClaims ?? Infinity;
  let tried = 0;
  let k = 0;
  while (k < list.length) {
    if (left(r) <= 0 || tried >= most) {
      const rest = list.slice(k).filter((x) => !settled(r, bbs, x));
      if (rest.length > 0) return { open: open.concat(rest), cut: tried >= most ? 'work limit' : 'timeout' };
      break;
    }
    const batch: Candidate[] = [];
    for (; k < list.length && batch.length < Math.min(chunk, most - tried); k++) if (!settled(r, bbs, list[k])) batch.push(list[k]);
    tried += batch.length;
    guarded(step)(batch).forEach((a, i) => {
      count(r.work, name, a);
      if (a === 'open') open.push(batch[i]);
    });
    progress(r, name, k, list.length);
  }
  return { open };
}

function count(w: Work, name: string, a: Attempt): void {
  if (name === 'corner') {
    w.corners++;
    if (a === 'proved') w.cornerProved++;
    if (a === 'witnessed') w.cornerWitnessed++;
  } else if (name === 'alpha') {
    w.alphas++;
    if (a === 'proved') w.alphaProved++;
  } else {
    w.attacks++;
    if (a === 'witnessed') w.attackWitnessed++;
  }
}

/** Steps 3 and 4 after the CROWN pass; the reason when the deadline or the work limit cut one. */
function settle(r: Run, bbs: readonly BoxBounds[]): string | undefined {
  const { g, sites, w } = r;
  const steps: Array<[string, Step, number]> = [['corner', (cs) => cornerClaims(g, sites, w, bbs, cs), CORNER_BATCH]];
  if (r.opts.alpha ?? true) steps.push(['alpha', perBox(r, bbs, (bb, c) => alphaOnBox(g, sites, w, bb, c), false), 1]);
  const o = { steps: r.opts.attackSteps ?? 8, starts: 2, seed: r.opts.seed ?? 1 };
  const attack = (bb: BoxBounds, c: Candidate): Attempt => (attackCandidate(g, sites, w, bb.box, c, o) ? 'witnessed' : 'open');
  if (o.steps > 0) steps.push(['attack', perBox(r, bbs, attack, true), 1]);
  let list = candidates(sites, w, bbs);
  let reason: string | undefined;
  for (const [name, step, chunk] of steps) {
    const { open, cut } = pass(r, bbs, list, name, step, chunk);
    // a timeout ends the census; a work limit ends the step, and what it left goes on to the next
    if (cut) reason ??= `${cut} in the ${name} step (${open.length} claims open)`;
    if (cut === 'timeout') break;
    list = open;
  }
  return reason;
}

/** The phase census of a graph, per ReLU node and per channel. */
export function graphPhaseCensus(g: Graph, boxes: Box[], opts: GraphCensusOptions): GraphCensus {
  const t0 = Date.now();
  checkBoxes(g, boxes);
  const sites = censusSites(g, opts.nodes);
  const r: Run = { g, boxes, sites, w: newWitnesses(sites), deadline: t0 + opts.timeoutMs, opts, work: noWork() };
  const done = (bbs: BoxBounds[] | null, reason?: string): GraphCensus => tally(sites, bbs, r.w, r.work, Date.now() - t0, reason);
  if (!sample(r)) return done(null, 'timeout while sampling');
  const bbs: BoxBounds[] = [];
  for (let k = 0; k < boxes.length; k++) {
    if (left(r) <= 0) return done(null, `timeout in the CROWN pass (box ${k + 1} of ${boxes.length})`);
    try {
      bbs.push(boxBounds(g, boxes[k], sites, r.deadline));
    } catch (e) {
      if (!(e instanceof BoundRefused)) throw e;
      // the witnesses stand; a proof needs every box bounded
      return done(null, `bound refused: ${e.message}`);
    }
    progress(r, 'crown', k + 1, boxes.length);
  }
  // past the deadline the pass left its last tensors at their intervals (sound, looser): its proofs stand
  if (left(r) <= 0) return done(bbs, `timeout in the CROWN pass (the tensors left kept their intervals; ${candidates(sites, r.w, bbs).length} claims open)`);
  return done(bbs, settle(r, bbs));
}
