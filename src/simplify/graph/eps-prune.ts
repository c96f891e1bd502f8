/**
 * Channel pruning of a graph network within an output tolerance (issue 27, `--epsilon E`): the pruned network g is
 * PROVED within E of f on the domain, max_k |f_k(x) - g_k(x)| <= E. The exact prune's census gives D, the dead
 * channels at ReLUs that can be killed (kill.ts); f0 = killChannels(f, D) is f on the domain (a dead channel's ReLU
 * gives 0 either way), with those zeros now structural. Live channels (class-candidates.ts) are then forced to zero
 * in the groups of kill-search.ts; a kill set K is accepted when checkGraphLinf proves |f0 - padded| <= E by the
 * diff method, padded = killChannels(f, D u K): f0 and padded have f's structure (the diff method's condition) and
 * the same zeros at D, so the difference there is exactly 0 (comparing with f itself would leave every dead channel
 * CROWN cannot see dead as a loose term). The dead channels at other ReLUs are re-proved by a census of the FINAL
 * padded graph on those nodes; g is padded without every channel then zero, so g = padded on the domain bit for bit
 * (the exact prune's argument) and |f - g| <= E: eps-check.ts proves exactly this about the files. Every attempt's
 * ReLU splitting has a node limit and no MILP (whose time limit would make the answer depend on the machine's pace).
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { graphPhaseCensus } from '../../verify/graph/census.ts';
import { checkGraphLinf } from '../../verify/graph/equiv.ts';
import { proveGraphLinear } from '../../verify/graph/bab.ts';
import type { ProveLinear } from '../../verify/graph/equiv-linf.ts';
import type { LinfResult } from '../../verify/equiv/equiv.ts';
import { channelSummary, removableChannels, removeChannels, zeroChannels, type ChannelSets, type ChannelSummary } from './channels.ts';
import { channelCount, deadChannelsOf, unionChannels } from './dead.ts';
import { pruneFromCensus, type GraphPruneResult } from './prune.ts';
import { killChannels, killSites } from './kill.ts';
import { candidatesOf, type Candidate } from './class-candidates.ts';
import { censusOptions, groupSearch, killsByNode, searchLimits, searchPoints, type KillSearchOptions, type KillSearchStats, type Outcome } from './kill-search.ts';

export interface GraphEpsPruneOptions extends KillSearchOptions {
  /** max |f - g| on every output, proved */
  epsilon: number;
}

export type EpsPruneStats = KillSearchStats;

export interface GraphEpsPruneResult {
  exact: GraphPruneResult;
  /** why nothing beyond the exact prune was removed, when so */
  reason?: string;
  /** per ReLU node, its input channels forced to zero: D (the census's dead ones at killable ReLUs) and the live ones */
  kills: Map<string, number[]>;
  /** D: f0 = killChannels(f, D) equals f on the domain */
  deadKilled: Map<string, number[]>;
  /** per ReLU node that cannot be killed, its input channels proved never active on padded */
  facts: Map<string, number[]>;
  padded: Graph;
  /** the channels of padded removed: pruned = removeChannels(padded, removed) */
  removed: ChannelSets;
  pruned: Graph;
  summary: ChannelSummary;
  /** the proved max |f0 - padded| on the domain, so of |f - g| (<= epsilon; 0 when nothing live is killed) */
  bound: number;
  stats: EpsPruneStats;
}

/** A bound of |f0 - padded| above this many times epsilon is left unknown without ReLU splitting: a node-limited
 * search seldom closes such a gap, and on a large network each of its nodes is a CROWN pass of the product graph. */
const FAR = 2;

/** bab.ts's ReLU splitting without MILP. */
const withoutMilp: ProveLinear = (g, box, goal, opts) => proveGraphLinear(g, box, goal, { ...opts, milpMaxUnstable: 0 });

/** The stored points and f's outputs there; refutes a candidate network where it is more than epsilon off. */
class Witnesses {
  private readonly fOut: Float64Array[];
  constructor(private readonly f: Graph, readonly points: Float64Array[]) {
    this.fOut = points.map((x) => forwardGraph(f, x));
  }
  add(x: Float64Array): void {
    this.points.unshift(x);
    this.fOut.unshift(forwardGraph(this.f, x));
  }
  /** Whether some stored point has |f - h| > epsilon on an output (or a NaN). */
  refutes(h: Graph, epsilon: number): boolean {
    const m = size(h.output.shape);
    return this.points.some((x, p) => {
      const y = forwardGraph(h, x);
      for (let k = 0; k < m; k++) if (!(Math.abs(y[k] - this.fOut[p][k]) <= epsilon)) return true;
      return false;
    });
  }
}

interface Accepted {
  kills: Map<string, number[]>;
  padded: Graph;
  bound: number;
}

/** The largest kill set the search proves within epsilon of f0 (D alone, at distance 0, when none is). */
function search(f: Graph, boxes: readonly Box[], exact: GraphPruneResult, D: Map<string, number[]>, o: GraphEpsPruneOptions, deadline: number, stats: EpsPruneStats): Accepted {
  const sites = killSites(f);
  const f0 = killChannels(f, D);
  const witnesses = new Witnesses(f, searchPoints(boxes, o));
  let best: Accepted = { kills: D, padded: f0, bound: 0 };
  const attempt = (cands: readonly Candidate[]): Outcome => {
    const kills = unionChannels(D, killsByNode(cands));
    const padded = killChannels(f, kills);
    if (witnesses.refutes(padded, o.epsilon)) return 'refuted';
    const linf = (prove: ProveLinear | false): LinfResult => checkGraphLinf(f0, padded, [...boxes], o.epsilon, { timeoutMs: Math.max(1, deadline - Date.now()), method: 'diff', samples: 32, steps: 5, seed: o.seed, maxNodes: o.maxNodes ?? 64, prove });
    // the bounds alone first: ReLU splitting (per output side, on the product graph) only where they are near E
    let r = linf(false);
    if (r.verdict.status === 'unknown' && r.provedBound <= FAR * o.epsilon) r = linf(withoutMilp);
    if (r.verdict.status === 'proved' && r.provedBound <= o.epsilon) {
      best = { kills, padded, bound: r.provedBound };
      return 'proved';
    }
    // a point where this one fails is likely to refute the larger groups tried later: checked first
    if (r.verdict.status === 'refuted') witnesses.add(r.verdict.witness);
    return r.verdict.status === 'refuted' ? 'refuted' : 'unknown';
  };
  const cands = candidatesOf(f, exact.dead, sites, witnesses.points);
  stats.candidates = cands.length;
  groupSearch(cands, attempt, searchLimits(o, deadline, 'epsilon prune: search'), stats);
  return best;
}

export function pruneGraphEps(f: Graph, boxes: readonly Box[], o: GraphEpsPruneOptions): GraphEpsPruneResult {
  if (!(o.epsilon >= 0 && Number.isFinite(o.epsilon))) throw new Error(`internal: pruneGraphEps: epsilon ${o.epsilon}`);
  const t0 = Date.now();
  const deadline = t0 + o.timeoutMs;
  const exact = pruneFromCensus(f, graphPhaseCensus(f, [...boxes], censusOptions(o)));
  const sites = killSites(f);
  const D = new Map([...exact.dead].filter(([n]) => sites.killable.has(n)));
  const stats: EpsPruneStats = { candidates: 0, notKillable: sites.notKillable, attempts: 0, accepted: 0, proved: 0, refuted: 0, unknown: 0, timeMs: 0, ended: 'done' };
  const found = search(f, boxes, exact, D, o, deadline, stats);
  // the facts at ReLUs that cannot be killed, re-proved on padded (its kills may change what reaches them)
  const factNodes = new Set([...exact.dead.keys()].filter((n) => !sites.killable.has(n)));
  const facts = factNodes.size ? deadChannelsOf(graphPhaseCensus(found.padded, [...boxes], censusOptions(o, factNodes))) : new Map<string, number[]>();
  const removed = removableChannels(found.padded, zeroChannels(found.padded, unionChannels(found.kills, facts)));
  const pruned = removeChannels(found.padded, removed);
  stats.accepted = channelCount(found.kills) - channelCount(D);
  stats.timeMs = Date.now() - t0;
  const reason = stats.accepted ? undefined : stats.candidates ? `no live channel could go with |f - g| <= ${o.epsilon} proved` : 'no live channel whose kill lets a channel go';
  return { exact, ...(reason ? { reason } : {}), kills: found.kills, deadKilled: D, facts, padded: found.padded, removed, pruned, summary: channelSummary(f, pruned), bound: found.bound, stats };
}
