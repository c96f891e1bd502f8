/**
 * Class-preserving channel pruning of a graph network (issue 27, "with a tolerance"): after the exact prune, LIVE
 * ReLU channels are forced to zero (kill.ts) and removed as long as the pruned network provably keeps f's winning
 * class on the whole domain. f's winner c is proved first (on f's exact prune, equal to f on the domain); each
 * candidate network g is accepted only when s (g_c - g_j) > margin is proved for every j != c on every box
 * (class-leads.ts), which with (1) is the claim class-check.ts proves about the files. The candidates are tried in
 * groups, as in delta debugging: a group that fails is halved, a single one that fails is dropped; the group size
 * doubles after a success. Every attempt is a proof of the whole candidate network, so the facts the exact prune
 * used (channels dead on f) need not hold in g: what is removed is whatever g is, and g is what is proved.
 * The search stops at a time budget or a work limit (proof attempts; each query's ReLU splitting has a node limit
 * and no MILP, whose time limit would make its answer depend on the machine's pace).
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { withoutSoftmax } from '../../verify/graph/equiv-class.ts';
import { classWinner } from '../../verify/tolerance.ts';
import { channelSummary, removableChannels, removeChannels, zeroChannels, type ChannelSets, type ChannelSummary } from './channels.ts';
import { channelCount, unionChannels } from './dead.ts';
import { graphPhaseCensus } from '../../verify/graph/census.ts';
import { pruneFromCensus, type GraphPruneResult } from './prune.ts';
import { killChannels, killSites } from './kill.ts';
import { leadOf, provedLeads, type ClassOrder, type Leads } from './class-leads.ts';
import { candidatesOf, type Candidate } from './class-candidates.ts';
import { censusOptions, groupSearch, killsByNode, searchLimits, searchPoints, tally, type KillSearchOptions, type KillSearchStats, type Outcome } from './kill-search.ts';

export interface GraphClassPruneOptions extends KillSearchOptions {
  order: ClassOrder;
  /** g's winner must lead every other output by more than this (scores before a final softmax) */
  margin: number;
}

/** no search: 'no-winner' (f's winner not proved), 'no-margin' (the exact prune's lead not proved above the margin) */
export type ClassPruneStats = KillSearchStats<'no-winner' | 'no-margin'>;

export interface GraphClassPruneResult {
  exact: GraphPruneResult;
  /** f's winner on the domain (proved), or -1 */
  winner: number;
  /** why nothing beyond the exact prune was removed, when so */
  reason?: string;
  /** per ReLU node, its input channels forced to zero */
  kills: Map<string, number[]>;
  /** the channels of killChannels(f, kills) removed: pruned = removeChannels(killChannels(f, kills), removed) */
  removed: ChannelSets;
  pruned: Graph;
  summary: ChannelSummary;
  /** proved lower bounds of s (y_c - y_j) per output j: f's (through its exact prune) and pruned's */
  leads?: { f: Float64Array; g: Float64Array };
  stats: ClassPruneStats;
}

interface Built {
  kills: Map<string, number[]>;
  removed: ChannelSets;
  g: Graph;
}

/** f with `kills` applied and every channel then zero removed (the census's dead channels and the killed ones). */
function build(f: Graph, dead: ReadonlyMap<string, readonly number[]>, kills: readonly Candidate[]): Built {
  const byNode = killsByNode(kills);
  const killed = killChannels(f, byNode);
  const removed = removableChannels(killed, zeroChannels(killed, unionChannels(dead, byNode)));
  return { kills: byNode, removed, g: removeChannels(killed, removed) };
}

/** The search's state: what is accepted, the points that refute cheaply, the counts. */
class Search {
  best: { built: Built; leads: Leads } | null = null;
  constructor(
    private readonly f: Graph,
    private readonly dead: ReadonlyMap<string, readonly number[]>,
    private readonly boxes: readonly Box[],
    private readonly points: Float64Array[],
    private readonly winner: number,
    private readonly o: GraphClassPruneOptions,
    private readonly deadline: number,
  ) {}

  /** The first stored point where h's lead of the winner is not above the margin. */
  private refutedBySamples(h: Graph): Float64Array | undefined {
    const m = size(h.output.shape);
    for (const x of this.points) {
      if (!(leadOf(forwardGraph(h, x).subarray(0, m), this.winner, this.o.order) > this.o.margin)) return x;
    }
    return undefined;
  }

  /** Whether the network with these kills keeps the class, proved; the best so far becomes it when so. */
  attempt(kills: readonly Candidate[]): Outcome {
    const built = build(this.f, this.dead, kills);
    const h = withoutSoftmax(built.g);
    if (this.refutedBySamples(h)) return 'refuted';
    const leads = provedLeads(h, this.boxes, this.winner, this.o.order, this.o.margin, { deadline: this.deadline, maxNodes: this.o.maxNodes ?? 64, milp: false });
    if (leads.status === 'proved') {
      this.best = { built, leads };
      return 'proved';
    }
    // a point where this one fails is likely to refute the larger groups tried later: checked first
    if (leads.status === 'falsified' && leads.x) this.points.unshift(leads.x);
    return leads.status === 'falsified' ? 'refuted' : 'unknown';
  }
}

/** The winner on every sampled point, or why there is none. */
function sampledWinner(h: Graph, points: readonly Float64Array[], order: ClassOrder): number | string {
  let c = -1;
  for (const x of points) {
    const w = classWinner(forwardGraph(h, x), order);
    if (c < 0) c = w.at;
    if (w.at !== c || !(w.lead > 0)) return `f's winner is not the same output at every sampled point of the domain (outputs ${c} and ${w.at})`;
  }
  return c;
}

export function pruneGraphClass(f: Graph, boxes: readonly Box[], o: GraphClassPruneOptions): GraphClassPruneResult {
  const t0 = Date.now();
  const deadline = t0 + o.timeoutMs;
  const exact = pruneFromCensus(f, graphPhaseCensus(f, [...boxes], censusOptions(o)));
  const sites = killSites(f);
  const stats: ClassPruneStats = { candidates: 0, notKillable: sites.notKillable, attempts: 0, accepted: 0, proved: 0, refuted: 0, unknown: 0, timeMs: 0, ended: 'no-winner' };
  const points = searchPoints(boxes, o);
  const onlyExact = (winner: number, reason: string, leads?: GraphClassPruneResult['leads']): GraphClassPruneResult => ({
    exact, winner, reason, kills: new Map(), removed: exact.removed, pruned: exact.pruned, summary: exact.summary,
    ...(leads ? { leads } : {}),
    stats: { ...stats, timeMs: Date.now() - t0 },
  });
  // f's winner, on its exact prune (the same function on the domain, and smaller)
  const h0 = withoutSoftmax(exact.pruned);
  const c = sampledWinner(h0, points, o.order);
  if (typeof c === 'string') return onlyExact(-1, c);
  o.onProgress?.("class prune: f's winner", 0, 1, deadline - Date.now());
  const fLeads = provedLeads(h0, boxes, c, o.order, 0, { deadline, maxNodes: o.maxNodes ?? 64, milp: false });
  if (fLeads.status !== 'proved') return onlyExact(-1, `f's winner (output ${c}) not proved to lead on the whole domain: ${fLeads.reason}`);
  const cands = candidatesOf(f, exact.dead, sites, points);
  stats.candidates = cands.length;
  const search = new Search(f, exact.dead, boxes, points, c, o, deadline);
  // the exact prune is the starting point: with a margin, its own lead must be proved above it
  const base = o.margin === 0 || o.margin < Math.min(...fLeads.lower) ? { built: build(f, exact.dead, []), leads: fLeads } : tally(stats, search.attempt([])) ? search.best : null;
  if (!base) {
    stats.ended = 'no-margin';
    return onlyExact(c, `the exact prune's lead of output ${c} is not proved above the margin ${o.margin}`, { f: fLeads.lower, g: fLeads.lower });
  }
  search.best = base;
  groupSearch(cands, (k) => search.attempt(k), searchLimits(o, deadline, 'class prune: search'), stats);
  const best = search.best!;
  stats.accepted = channelCount(best.built.kills);
  stats.timeMs = Date.now() - t0;
  const reason = stats.accepted ? undefined : cands.length ? 'no live channel could go with the class proved' : 'no live channel whose kill lets a channel go';
  return {
    exact, winner: c, ...(reason ? { reason } : {}), kills: best.built.kills, removed: best.built.removed, pruned: best.built.g,
    summary: channelSummary(f, best.built.g), leads: { f: fLeads.lower, g: best.leads.lower }, stats,
  };
}
