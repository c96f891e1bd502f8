/**
 * The claim of an exact channel prune, proved about two graphs as read from their files: g is f with channels
 * removed that are identically zero on the domain, or constant on it and folded into their consumers' biases. The
 * proof has two parts, both recomputed here:
 * 1. facts: the ReLU channels that make the removed ones zero are proved never active on f afresh (a new census);
 *    the zero channels they imply (zeroChannels), and the constant channels those imply (constants.ts), contain
 *    every removed one;
 * 2. structure: g is exactly removeChannels(f, removed, constants) (graphDifference: same nodes, bit-identical
 *    parameters), except folded biases, each a rounding of its exact value (fold-check.ts).
 * Without folds f = g on the domain in exact arithmetic, and bit for bit in forwardGraph (a sum that skips terms
 * w * 0 is the same floating-point sum); with folds |f - g| <= the bound perturb.ts proves for the biases' rounding.
 * f and g are also evaluated on points of the domain: a difference (beyond that bound and float64 evaluation noise;
 * when the structure is not the claimed one, beyond what float32 storage could do) refutes the claim, with the
 * point as a witness.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { graphDifference } from '../../model/graph/compare.ts';
import { graphPhaseCensus } from '../../verify/graph/census.ts';
import { samplePairs } from './sample-pairs.ts';
import { removableChannels, removeChannels, zeroChannels, type ChannelSets } from './channels.ts';
import { channelCount, deadChannelsOf, missingFrom, unionChannels } from './dead.ts';
import { constantChannels, constantSets } from './constants.ts';
import { foldPlan } from './fold-check.ts';
import { droppedRelus } from './linear-relu.ts';
import { graphIntervalBounds } from '../../bounds/graph/interval.ts';

/** One box holding every box of the domain (the folded weights' rounding needs only a coarse input bound). */
function hullOf(boxes: readonly Box[]): Box {
  const lo = Float64Array.from(boxes[0].lo);
  const hi = Float64Array.from(boxes[0].hi);
  for (const b of boxes) for (let i = 0; i < lo.length; i++) (lo[i] = Math.min(lo[i], b.lo[i])), (hi[i] = Math.max(hi[i], b.hi[i]));
  return { lo, hi };
}

export const EXACT_CLAIM = 'g(x) = f(x) for every x in the domain: g is f without channels that are zero on it (exact arithmetic; bit for bit in nnshrink evaluation)';

/** The exact mode's claim when constant channels or batchnorms were folded: their rounding is all that differs. */
export const foldClaim = (bound: number, constants: number, batchnorms: number): string =>
  `max |f(x) - g(x)| <= ${bound} on every output for every x in the domain: g is f without channels that are zero on it, with ${constants} constant channels folded into biases and ${batchnorms} batchnorms into the conv or dense before them (exact arithmetic; the bound is the folded parameters' rounding)`;

/** float64 evaluation noise a sampled difference must exceed to refute a folded prune (relative to the outputs) */
const EVAL_NOISE = 1e-9;

/** When the structure is not the claimed one (so no fold bound is known), what a sampled difference must exceed to
 * refute: more than storing folded parameters in the file's precision could do (relative to the outputs). */
const storageSlack = (g: Graph): number => (g.precision === 'float32' ? 1e-5 : 1e-9);

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
  /** constant channels folded into biases: how many, the biases changed, and the proved max |f - g| they make */
  folds?: { constants: number; batchnorms: number; biases: number; bound: number };
  /** ReLU nodes of f that g does not have, each proved always active at every element (the identity there) */
  linearRelus?: string[];
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
  let folds: GraphCheckResult['folds'];
  let linear: string[] = [];
  const result = (status: GraphCheckResult['verdict']['status'], method: string, reason: string | undefined, reproved: number, factsMs: number, s: ReturnType<typeof compareOnSamples>): GraphCheckResult => ({
    claim: (folds ? foldClaim(folds.bound, folds.constants, folds.batchnorms) : EXACT_CLAIM) + (linear.length ? `; ${linear.length} ReLU node(s) always active on it dropped` : ''),
    verdict: { status, method, timeMs: Date.now() - t0, ...(reason ? { reason } : {}) },
    facts: { claimed, reproved, timeMs: factsMs },
    sampling: { points: s.points, maxAbsDiff: s.maxAbsDiff },
    ...(folds ? { folds } : {}),
    ...(linear.length ? { linearRelus: linear } : {}),
    ...(s.witness ? { witness: [...s.witness] } : {}),
  });
  if (size(f.input.shape) !== size(g.input.shape) || size(f.output.shape) !== size(g.output.shape)) {
    const none = { points: 0, maxAbsDiff: Infinity };
    return result('refuted', 'shapes', `the networks take or give different sizes ([${f.input.shape}] -> [${f.output.shape}] against [${g.input.shape}] -> [${g.output.shape}])`, 0, 0, none);
  }
  // the facts first: which removed channels are constant (and how they fold) follows from the zero ones
  const t1 = Date.now();
  o.onProgress?.('final check: census', 0, 1);
  // relu nodes g lacks are claimed linear: the census covers them too, whatever the hint
  linear = droppedRelus(f, g);
  const censusNodes = nodes ? new Set([...nodes, ...linear]) : undefined;
  const census = graphPhaseCensus(f, [...boxes], { timeoutMs: o.timeoutMs, seed: o.seed, ...(censusNodes ? { nodes: censusNodes } : {}) });
  const zero = zeroChannels(f, deadChannelsOf(census));
  const consts = constantChannels(f, zero);
  const factsMs = Date.now() - t1;
  const missing = missingFrom(removed, unionChannels(zero, constantSets(consts)));
  let bounds: ReturnType<typeof graphIntervalBounds> | undefined;
  const boundsOf = (t: string): { lo: Float64Array; hi: Float64Array } | undefined => (bounds ??= graphIntervalBounds(f, hullOf(boxes))).get(t);
  const plan = foldPlan(f, g, removed, consts, linear, boundsOf);
  if (plan.constants > 0 || plan.batchnorms > 0) folds = { constants: plan.constants, batchnorms: plan.batchnorms, biases: plan.biases, bound: plan.bound };
  const folded = !plan.problem && folds !== undefined;
  const slack = plan.problem ? storageSlack(g) : EVAL_NOISE;
  const apart = folded || plan.problem ? (a: number, b: number): boolean => !(Math.abs(a - b) <= (folded ? plan.bound : 0) + slack * (1 + Math.abs(a) + Math.abs(b))) : undefined;
  const s = compareOnSamples(f, g, boxes, o, apart);
  if (s.witness) return result('refuted', 'sampling', `f and g differ at a sampled point (|f-g| up to ${s.maxAbsDiff}${folded ? `, beyond the folds' bound ${plan.bound}` : ''})`, 0, factsMs, s);
  if (plan.problem) return result('unknown', 'structure', plan.problem, 0, factsMs, s);
  const notLinear = linear.filter((n) => !census.layers.find((l) => l.node === n)?.phases.every((p) => p === 'always'));
  if (notLinear.length) return result('unknown', 'structure+census', `relu node ${notLinear[0]} is not in the stored network and not proved always active at every element${census.reason ? `; census: ${census.reason}` : ''}`, 0, factsMs, s);
  const reproved = claimed - missing.length;
  if (missing.length) {
    const why = `${missing.length} of ${claimed} removed channels not re-proved zero or constant (first: ${missing[0]})${census.reason ? `; census: ${census.reason}` : ''}`;
    return result('unknown', 'structure+census', why, reproved, factsMs, s);
  }
  return result('proved', 'structure+census', undefined, claimed, factsMs, s);
}
