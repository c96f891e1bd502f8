/**
 * The claim of an exact channel prune, proved about two graphs as read from their files: g is f with channels
 * removed that are identically zero on the domain. The proof has two parts, both recomputed here:
 * 1. structure: g is exactly removeChannels(f, removed) (graphDifference: same nodes, bit-identical parameters);
 * 2. facts: the ReLU channels that make the removed ones zero are proved never active on f afresh (a new census), and
 *    the zero channels they imply (zeroChannels) contain every removed one.
 * Then f = g on the domain in exact arithmetic, and bit for bit in forwardGraph (a sum that skips terms w * 0 is the
 * same floating-point sum). Before any proof, f and g are evaluated on points of the domain: any difference refutes
 * the claim, with the point as a witness.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { graphDifference } from '../../model/graph/compare.ts';
import { graphPhaseCensus } from '../../verify/graph/census.ts';
import { samplePairs } from './sample-pairs.ts';
import { removableChannels, removeChannels, zeroChannels, type ChannelSets } from './channels.ts';
import { channelCount, deadChannelsOf, missingFrom, unionChannels } from './dead.ts';

export const EXACT_CLAIM = 'g(x) = f(x) for every x in the domain: g is f without channels that are zero on it (exact arithmetic; bit for bit in nnshrink evaluation)';

export interface GraphCheckOptions {
  /** the census's time limit (re-proving the facts) */
  timeoutMs: number;
  /** points of the domain where f and g are compared (spread over the boxes) */
  samples: number;
  seed: number;
  onProgress?: (step: string, done: number, total: number) => void;
}

export interface GraphCheckResult {
  claim: string;
  verdict: { status: 'proved' | 'refuted' | 'unknown'; method: string; timeMs: number; reason?: string };
  /** the channels listed as removed (each zero on the domain; removeChannels also drops what only they read), and
   * how many of them the fresh census showed zero */
  facts: { claimed: number; reproved: number; timeMs: number };
  sampling: { points: number; maxAbsDiff: number };
  witness?: number[];
}

/** f and g on the sampled points: the first point where some output pair is `apart` (default: not equal), and the
 * largest difference (shared with the epsilon check, whose outputs are apart beyond epsilon). */
export function compareOnSamples(f: Graph, g: Graph, boxes: readonly Box[], o: GraphCheckOptions, apart = (a: number, b: number): boolean => !(a === b)): { points: number; maxAbsDiff: number; witness?: Float64Array } {
  let maxAbsDiff = 0;
  let witness: Float64Array | undefined;
  const points = samplePairs(f, g, boxes, o.samples, o.seed, (x, a, b) => {
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (apart(a[i], b[i])) witness ??= x;
      maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
    }
  }, (d, t) => o.onProgress?.('final check: sampling', d, t));
  return { points, maxAbsDiff, ...(witness ? { witness } : {}) };
}

/** Why g is not f with `removed` taken out, or null when it is (shared with the epsilon check, about its padded f). */
export function structureProblem(f: Graph, g: Graph, removed: ChannelSets): string | null {
  const [notTogether] = missingFrom(removed, removableChannels(f, removed));
  if (notTogether) return `channel ${notTogether} cannot be removed with the others (a producer or consumer needs it)`;
  const diff = graphDifference(removeChannels(f, removed), g);
  return diff ? `the stored network is not the original without the named channels: ${diff}` : null;
}

/**
 * The removed channels a fresh census of g (on `nodes` only, when given) does not prove zero, with the channels
 * `zeroAlready` names counted as zero (the epsilon check's killed ones, zero by construction), and why.
 */
export function reprovedZero(g: Graph, removed: ChannelSets, boxes: readonly Box[], o: GraphCheckOptions, nodes?: ReadonlySet<string>, zeroAlready: ChannelSets = new Map()): { missing: string[]; why: string; timeMs: number } {
  const t1 = Date.now();
  o.onProgress?.('final check: census', 0, 1);
  const census = graphPhaseCensus(g, [...boxes], { timeoutMs: o.timeoutMs, seed: o.seed, ...(nodes ? { nodes } : {}) });
  const zero = zeroChannels(g, unionChannels(deadChannelsOf(census), zeroAlready));
  const missing = missingFrom(removed, zero);
  const why = missing.length ? `${missing.length} of ${channelCount(removed)} removed channels not re-proved zero (first: ${missing[0]})${census.reason ? `; census: ${census.reason}` : ''}` : '';
  return { missing, why, timeMs: Date.now() - t1 };
}

/**
 * `nodes`: the ReLU-like nodes whose facts the census re-proves (the certificate's hint, to save time: a wrong hint
 * can only leave channels unproved); undefined: every one.
 */
export function checkGraphPrune(f: Graph, g: Graph, removed: ChannelSets, boxes: readonly Box[], o: GraphCheckOptions, nodes?: ReadonlySet<string>): GraphCheckResult {
  const t0 = Date.now();
  const claimed = channelCount(removed);
  const result = (status: GraphCheckResult['verdict']['status'], method: string, reason: string | undefined, reproved: number, factsMs: number, s: ReturnType<typeof compareOnSamples>): GraphCheckResult => ({
    claim: EXACT_CLAIM,
    verdict: { status, method, timeMs: Date.now() - t0, ...(reason ? { reason } : {}) },
    facts: { claimed, reproved, timeMs: factsMs },
    sampling: { points: s.points, maxAbsDiff: s.maxAbsDiff },
    ...(s.witness ? { witness: [...s.witness] } : {}),
  });
  if (size(f.input.shape) !== size(g.input.shape) || size(f.output.shape) !== size(g.output.shape)) {
    const none = { points: 0, maxAbsDiff: Infinity };
    return result('refuted', 'shapes', `the networks take or give different sizes ([${f.input.shape}] -> [${f.output.shape}] against [${g.input.shape}] -> [${g.output.shape}])`, 0, 0, none);
  }
  const s = compareOnSamples(f, g, boxes, o);
  if (s.witness) return result('refuted', 'sampling', `f and g differ at a sampled point (|f-g| up to ${s.maxAbsDiff})`, 0, 0, s);
  const problem = structureProblem(f, g, removed);
  if (problem) return result('unknown', 'structure', problem, 0, 0, s);
  const z = reprovedZero(f, removed, boxes, o, nodes);
  if (z.missing.length) return result('unknown', 'structure+census', z.why, claimed - z.missing.length, z.timeMs, s);
  return result('proved', 'structure+census', undefined, claimed, z.timeMs, s);
}
