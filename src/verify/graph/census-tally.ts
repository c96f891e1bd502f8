/**
 * The census's result: per site and element the phase from the proofs on every box and the witnesses, counts per
 * layer and in all, and per channel (axis 0 of a [C, H, W] input): never / always when every position is, both
 * when some position is witnessed above the kink and some (maybe another) below it, unknown otherwise.
 */
import type { Shape } from '../../model/graph/types.ts';
import type { Phase } from '../phase/types.ts';
import { provedAll, type BoxBounds } from './census-prove.ts';
import type { Site, Witnesses } from './census-sites.ts';

export interface Counts {
  never: number;
  always: number;
  both: number;
  unknown: number;
}

export interface LayerCensus {
  /** the ReLU-like node */
  node: string;
  /** its input's shape */
  shape: Shape;
  phases: Phase[];
  counts: Counts;
  channels?: { phases: Phase[]; counts: Counts };
  /** per element: the index in GraphCensus.points of a point where the input is above (below) the kink, or -1 */
  activeAt: Int32Array;
  inactiveAt: Int32Array;
}

/** A graph's census: per ReLU node its neurons' and channels' phases, totals, and the work it took. */
export interface GraphCensus {
  layers: LayerCensus[];
  totals: Counts;
  channelTotals: Counts;
  timeMs: number;
  /** why some element is left unknown: the deadline (and where), or a bound refused */
  reason?: string;
  /** the evaluated points that the witnesses name */
  points: Float64Array[];
  /** the work done: claims tried after the CROWN pass and their outcomes, witness searches and their finds */
  work: Work;
}

export interface Work {
  samples: number;
  /** claims tried by their own CROWN row and its corner: proved, witnessed against */
  corners: number;
  cornerProved: number;
  cornerWitnessed: number;
  /** claims tried by optimised slopes, proved */
  alphas: number;
  alphaProved: number;
  /** gradient-descent searches, and those that found a witness against their claim */
  attacks: number;
  attackWitnessed: number;
}

export const noWork = (): Work => ({ samples: 0, corners: 0, cornerProved: 0, cornerWitnessed: 0, alphas: 0, alphaProved: 0, attacks: 0, attackWitnessed: 0 });

export const zeroCounts = (): Counts => ({ never: 0, always: 0, both: 0, unknown: 0 });

export function countOf(phases: readonly Phase[]): Counts {
  const c = zeroCounts();
  for (const p of phases) c[p]++;
  return c;
}

export function addCounts(a: Counts, b: Counts): Counts {
  return { never: a.never + b.never, always: a.always + b.always, both: a.both + b.both, unknown: a.unknown + b.unknown };
}

/** One element's phase. A proof never overrides a witness (a witness is a plain evaluation). */
function elementPhase(site: Site, bbs: readonly BoxBounds[] | null, w: Witnesses, s: number, i: number): Phase {
  const above = w.above[s][i] >= 0;
  const below = w.below[s][i] >= 0;
  if (above && below) return 'both';
  if (bbs && !above && provedAll(bbs, site, i, 'never')) return 'never';
  if (bbs && !below && provedAll(bbs, site, i, 'always')) return 'always';
  return 'unknown';
}

function channelPhases(shape: Shape, phases: readonly Phase[], w: Witnesses, s: number): Phase[] {
  const [C] = shape;
  const per = phases.length / C;
  const out: Phase[] = [];
  for (let ch = 0; ch < C; ch++) {
    let never = true;
    let always = true;
    let above = false;
    let below = false;
    for (let i = ch * per; i < (ch + 1) * per; i++) {
      never &&= phases[i] === 'never';
      always &&= phases[i] === 'always';
      above ||= w.above[s][i] >= 0;
      below ||= w.below[s][i] >= 0;
    }
    out.push(never ? 'never' : always ? 'always' : above && below ? 'both' : 'unknown');
  }
  return out;
}

/** The census from the sites' bounds on every box (null: no bounds, witnesses only) and the witnesses. */
export function tally(sites: readonly Site[], bbs: readonly BoxBounds[] | null, w: Witnesses, work: Work, timeMs: number, reason?: string): GraphCensus {
  let totals = zeroCounts();
  let channelTotals = zeroCounts();
  const layers = sites.map((site, s): LayerCensus => {
    const phases = Array.from(w.above[s], (_, i) => elementPhase(site, bbs, w, s, i));
    const counts = countOf(phases);
    totals = addCounts(totals, counts);
    const layer: LayerCensus = { node: site.node, shape: site.shape, phases, counts, activeAt: w.above[s], inactiveAt: w.below[s] };
    if (site.shape.length === 3) {
      const cp = channelPhases(site.shape, phases, w, s);
      layer.channels = { phases: cp, counts: countOf(cp) };
      channelTotals = addCounts(channelTotals, layer.channels.counts);
    }
    return layer;
  });
  return { layers, totals, channelTotals, timeMs, reason, points: w.points, work };
}
