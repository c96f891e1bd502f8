/**
 * The claim of an epsilon channel prune, proved about two graphs as read from their files: max_k |f_k(x) - g_k(x)|
 * <= E for every x in the domain. The proof, every part recomputed here:
 * 1. sampling: f and g on points of the domain; a point where they are more than E apart refutes the claim;
 * 2. padded := killChannels(f, kills): the certificate's channels forced to zero at their producers (each must be a
 *    killable ReLU's channel);
 * 3. structure: g is exactly removeChannels(padded, removed) (check.ts's structural part);
 * 4. facts on padded: every removed channel is zero on padded: the killed ones by construction, the others by a
 *    fresh census of padded (on the ReLU nodes the certificate's facts name: a hint, which can only prove less);
 * 5. facts on f: a fresh census of f on the killed ReLU nodes; D := the killed channels it proves never active, and
 *    f0 := killChannels(f, D) equals f on the domain;
 * 6. |f0 - padded| <= E proved by checkGraphLinf (the diff method: both have f's structure).
 * By 3 and 4, g = padded on the domain (bit for bit in nnshrink's evaluation); by 5 f = f0 there; so by 6
 * |f - g| <= E. Which kills are dead on f is not taken from the certificate: a kill the census does not prove dead
 * is one more difference for step 6 to bound.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { checkGraphLinf } from '../../verify/graph/equiv.ts';
import { absDiffAt } from '../../verify/graph/equiv-sample.ts';
import { channelCount, deadChannelsOf } from './dead.ts';
import { graphPhaseCensus } from '../../verify/graph/census.ts';
import { killChannels, killSites, whyNotKillable } from './kill.ts';
import { compareOnSamples, reprovedZero, structureProblem, type GraphCheckOptions } from './check.ts';
import { notAscendingBelow, type ChannelSets } from './channels.ts';

export const epsClaim = (epsilon: number): string =>
  `max |f(x) - g(x)| <= ${epsilon} on every output for every x in the domain: g is f with channels forced to zero (the difference proved within ${epsilon}) and channels zero on it removed`;

export interface GraphEpsCheckResult {
  claim: string;
  verdict: { status: 'proved' | 'refuted' | 'unknown'; method: string; timeMs: number; reason?: string };
  /** the removed channels, and how many were shown zero on padded (killed, or by the fresh census) */
  facts: { claimed: number; reproved: number; timeMs: number };
  sampling: { points: number; maxAbsDiff: number };
  /** the proved max |f0 - padded| on the domain, so of |f - g| (Infinity: not proved) */
  provedBound: number;
  witness?: number[];
}

type Status = GraphEpsCheckResult['verdict']['status'];

/** Why the kills do not name killable ReLU channels of f, or null. */
export function killsProblem(f: Graph, kills: ChannelSets): string | null {
  const sites = killSites(f);
  for (const [node, chs] of kills) {
    const p = sites.killable.get(node);
    if (!p) return `kills: ${node} is not a ReLU whose channels can be forced to zero (${whyNotKillable(sites, node) ?? 'no such ReLU node'})`;
    const C = f.shapes.get(p.output)![0];
    const bad = notAscendingBelow(chs, C);
    if (bad !== undefined) return `kills: channel ${bad} of ${node} (it has ${C}; channels ascending, once each)`;
  }
  return null;
}

/** The channels of `kills` a fresh census of f (on the killed nodes only) proves never active on the domain. */
function deadAmong(f: Graph, kills: ChannelSets, boxes: readonly Box[], o: GraphCheckOptions): Map<string, number[]> {
  if (kills.size === 0) return new Map();
  o.onProgress?.('final check: census of f', 0, 1);
  const census = graphPhaseCensus(f, [...boxes], { timeoutMs: o.timeoutMs, seed: o.seed, nodes: new Set(kills.keys()) });
  const dead = deadChannelsOf(census);
  const out = new Map<string, number[]>();
  for (const [node, chs] of kills) {
    const d = new Set(dead.get(node) ?? []);
    const both = chs.filter((c) => d.has(c));
    if (both.length) out.set(node, both);
  }
  return out;
}

/**
 * `factNodes`: the ReLU nodes whose never-active channels the census re-proves on padded (the certificate's hint).
 * Each census gets a quarter of timeoutMs, the proof of step 6 what is left; maxNodes: a work limit per ReLU-splitting
 * search of that proof (default none).
 */
export function checkGraphEpsPrune(f: Graph, g: Graph, kills: ChannelSets, removed: ChannelSets, boxes: readonly Box[], epsilon: number, o: GraphCheckOptions & { maxNodes?: number }, factNodes: ReadonlySet<string>): GraphEpsCheckResult {
  if (!(epsilon >= 0 && Number.isFinite(epsilon))) throw new Error(`internal: checkGraphEpsPrune: epsilon ${epsilon}`);
  const t0 = Date.now();
  const claimed = channelCount(removed);
  let factsMs = 0;
  let reproved = 0;
  let provedBound = Infinity;
  const result = (status: Status, method: string, reason: string | undefined, s: { points: number; maxAbsDiff: number; witness?: Float64Array | number[] }): GraphEpsCheckResult => ({
    claim: epsClaim(epsilon),
    verdict: { status, method, timeMs: Date.now() - t0, ...(reason ? { reason } : {}) },
    facts: { claimed, reproved, timeMs: factsMs },
    sampling: { points: s.points, maxAbsDiff: s.maxAbsDiff },
    provedBound,
    ...(s.witness ? { witness: [...s.witness] } : {}),
  });
  if (size(f.input.shape) !== size(g.input.shape) || size(f.output.shape) !== size(g.output.shape)) {
    return result('refuted', 'shapes', `the networks take or give different sizes ([${f.input.shape}] -> [${f.output.shape}] against [${g.input.shape}] -> [${g.output.shape}])`, { points: 0, maxAbsDiff: Infinity });
  }
  const s = compareOnSamples(f, g, boxes, o, (a, b) => !(Math.abs(a - b) <= epsilon));
  if (s.witness) return result('refuted', 'sampling', `f and g are more than ${epsilon} apart at a sampled point (|f-g| up to ${s.maxAbsDiff})`, s);
  const badKills = killsProblem(f, kills);
  if (badKills) return result('unknown', 'structure', badKills, s);
  const padded = killChannels(f, kills);
  const problem = structureProblem(padded, g, removed);
  if (problem) return result('unknown', 'structure', problem, s);
  const quarter = { ...o, timeoutMs: o.timeoutMs / 4 };
  const z = reprovedZero(padded, removed, boxes, quarter, factNodes, kills);
  factsMs = z.timeMs;
  reproved = claimed - z.missing.length;
  if (z.missing.length) return result('unknown', 'structure+census', z.why, s);
  const f0 = killChannels(f, deadAmong(f, kills, boxes, quarter));
  o.onProgress?.('final check: |f - padded|', 0, 1);
  const left = Math.max(1, o.timeoutMs - (Date.now() - t0));
  const r = checkGraphLinf(f0, padded, [...boxes], epsilon, { timeoutMs: left, method: 'diff', seed: o.seed, ...(o.maxNodes !== undefined ? { maxNodes: o.maxNodes } : {}) });
  const method = `structure+census+${r.verdict.method}`;
  if (r.verdict.status === 'refuted') {
    // g = padded on the domain by 3 and 4, so the point should break the claim about the files too: evaluated on them
    const x = r.verdict.witness;
    const d = absDiffAt(f, g, x);
    if (d > epsilon) return result('refuted', method, `f and g are ${d} apart at a point the proof found`, { ...s, witness: x });
    return result('unknown', method, `f0 and the padded network are more than ${epsilon} apart at a point where f and g are not (${d})`, s);
  }
  provedBound = r.provedBound;
  if (r.verdict.status === 'proved' && r.provedBound <= epsilon) return result('proved', method, undefined, s);
  return result('unknown', method, `|f - padded| <= ${epsilon} not proved: ${r.verdict.status === 'unknown' ? r.verdict.reason : `the proved bound is ${r.provedBound}`}`, s);
}
