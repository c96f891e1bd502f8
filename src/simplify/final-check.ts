/**
 * The final, fresh end-to-end check of the original f against a pruned network AS WRITTEN (read back from its file,
 * so float32 storage is included): a new equivalence query (no cached reasoning from the passes), plus a large
 * random-sample comparison. The pairing hints (which neurons were merged or replaced by a line) only guide how the
 * difference is decomposed; the verifier is sound whatever they say.
 */
import type { Network } from '../model/network.ts';
import { samplingContradicts, type SamplingResult } from './sample-compare.ts';
import { forward, sameLayerSizes } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import { coverDomain, sampleCoverBox } from '../verify/search/cover.ts';
import { mulberry32 } from '../model/rng.ts';
import { checkClass, checkLinf, withPhaseFacts, worstPoint, type BoundsFn, type OutputLinearLower } from '../verify/equiv/equiv.ts';
import { phaseCensus } from '../verify/phase/phase.ts';
import { provedClassMargins, type ClassMargins } from '../verify/equiv/class-margins.ts';
import { classChanged, type Tolerance } from '../verify/tolerance.ts';
import type { Verdict } from '../verify/verdict.ts';
import type { AlignedPair } from '../verify/equiv/diff/diff-pair.ts';
import { KEEP, applyEdits, cloneEdits, type Edits } from './edits.ts';
import { compact, expandToAligned } from './compact.ts';
import { PairingMismatch, refactorBound } from './refactor-check.ts';
import { reduceLinearBasis } from './basis.ts';

export interface FinalCheckResult {
  claim: string;
  /** the tolerance actually checked (linf: epsilon; exact: the floating-point tolerance) */
  epsilon?: number;
  verdict: { status: Verdict['status']; method: string; timeMs: number; reason?: string; boxes?: number };
  /** the phase facts re-proved afresh before the difference check (and how many of them held up in time) */
  phaseFacts?: { claimed: number; reproved: number; boxes: number; timeMs: number; notReproved?: Array<[number, number]> };
  /** proved max |f - g| (linf and exact modes): the pruned network before folding/rounding, plus refactorBound */
  provedBound?: number;
  /** sound bound of the change made by the linear-basis reduction, folding linear layers and the storage precision */
  refactorBound: number;
  /** the part of refactorBound due to the linear-basis reduction */
  basisBound?: number;
  sampling: SamplingResult;
  /** class mode: the margins of f's winner proved afresh for the class check (when f has one winner on the domain) */
  classMargins?: { winner: number; proved: ClassMargins['proved']; timeMs: number };
  /** a re-checked counterexample, if the claim is false */
  witness?: number[];
}

export interface FinalCheckOptions {
  boundsFn: BoundsFn;
  outputLinearLower?: OutputLinearLower;
  timeoutMs: number;
  seed: number;
  /** the random-sample comparison of f and the written network (sample-compare.ts: the caller runs it, on worker
   * threads when that pays) */
  sampling: SamplingResult;
  /** the step under way, and how far */
  onProgress?: (step: string, done: number, total: number) => void;
  /**
   * false: run the proof even when the samples contradict the claim (prune: its fallbacks need to know which phase
   * facts were not re-proved; it refuses to write a result that sampling contradicts anyway). Default true: a
   * contradicting sample refutes the claim at once (check).
   */
  stopOnContradiction?: boolean;
}

/**
 * The fixed floating-point slack of "exact": 1e-9 (float32 storage: 1e-5) times max(1, the largest |output| of f on
 * 500 seeded samples per domain box). A function of f, the domain and the storage precision only, so `check`
 * recomputes it and a certificate cannot raise it. It only sets how much rounding "exact" forgives.
 */
export function exactSlack(f: Network, domain: Box[], precision: 'float32' | 'float64'): number {
  return (precision === 'float32' ? 1e-5 : 1e-9) * Math.max(1, outputScale(f, domain));
}

function outputScale(f: Network, domain: Box[]): number {
  let s = 0;
  const rng = mulberry32(5);
  // per box of the domain's cover: its own boxes when they are few (up to 256), else 256 groups of them, so a
  // VNN-LIB of 100,000 boxes costs 128,000 samples, not 50 million
  const cover = coverDomain(domain);
  for (let g = 0; g < cover.boxes.length; g++) {
    const xs = sampleCoverBox(cover, g, 500, rng);
    const y = forward(f, xs, 500);
    for (let i = 0; i < y.length; i++) s = Math.max(s, Math.abs(y[i]));
  }
  return s;
}

/**
 * Checks f against `written` along a chain that the certificate records and `nnshrink check` re-runs:
 *   f  ~  g = edits applied to f (same shapes; differential branch and bound, a fresh query)
 *   g  == compact(g) bit for bit (only zero terms dropped)
 *   compact(g)  ~  written (folded linear layers and storage rounding: refactorBound)
 */
type FactStep = { kind: string; layer: number; neuron: number; stage?: number };

/** A pruning as written: the edits and steps that made it, the network as stored and how its layers group f's. */
export interface WrittenPrune {
  edits: Edits;
  steps: FactStep[];
  written: Network;
  groups: number[][];
  /** the written network went through the linear-basis reduction (re-derived here, its rounding bounded) */
  basisReduced: boolean;
}

/**
 * The neurons the edits claim never active (removed) or always active (made linear): stage 0, facts of the
 * original; stage 1, facts of the network after the tolerance changes (the fixpoint step), re-proved on that one.
 */
export function phaseFacts(edits: Edits, steps: FactStep[], stage: 0 | 1 = 0): Array<{ layer: number; index: number; sign: 1 | -1 }> {
  return steps
    .filter((s) => (s.kind === 'never-active' || s.kind === 'always-active') && (s.stage ?? 0) === stage)
    .filter((s) => edits.state[s.layer]?.[s.neuron] !== undefined)
    .map((s) => ({ layer: s.layer, index: s.neuron, sign: s.kind === 'never-active' ? (-1 as const) : (1 as const) }));
}

/** What the chain's first and last links give the difference check (see finalCheck). */
export interface WrittenPairing {
  /** f against the network the difference check compares (edits applied; the written numbers where nothing folded) */
  pair: AlignedPair;
  /** sound bound of what folding, the basis reduction and storage change between that network and the written one */
  rb: number;
  basisBound?: number;
  phaseFacts: NonNullable<FinalCheckResult['phaseFacts']>;
  /** opts.boundsFn with the re-proved phase facts applied to f */
  boundsFn: BoundsFn;
  /** time spent re-proving the facts */
  phaseMs: number;
  /** the stored network is not what the edits and groups describe (then rb is Infinity: nothing is proved) */
  mismatch?: string;
}

/**
 * f and the network as written, paired in f's coordinates for the difference check: the phase facts the edits rely
 * on re-proved afresh on `domain` (the difference check may then use them on every box), and the bound of what
 * folding and storage change. Sound on any domain: a fact that does not hold there is not re-proved and not used.
 */
export function pairWritten(
  f: Network,
  { edits, steps, written, groups, basisReduced }: WrittenPrune,
  domain: Box[],
  opts: Pick<FinalCheckOptions, 'boundsFn' | 'timeoutMs' | 'seed' | 'onProgress'>,
): WrittenPairing {
  const facts = phaseFacts(edits, steps);
  const t0 = Date.now();
  opts.onProgress?.('final check: re-proving phase facts', 0, 1);
  const re = facts.length
    ? phaseCensus(f, domain, { boundsFn: opts.boundsFn, timeoutMs: opts.timeoutMs, claims: facts, seed: opts.seed })
    : null;
  const proved = re ? re.neurons.filter((n) => n.phase === 'never' || n.phase === 'always') : [];
  const phaseMs = Date.now() - t0;
  const notReproved = re ? re.neurons.filter((n) => n.phase !== 'never' && n.phase !== 'always').map((n): [number, number] => [n.layer, n.index]) : [];
  // facts of the changed network g1 (before they were applied): the difference check compares f with g1, and these
  // facts, re-proved on g1, say that the network with them applied computes exactly what g1 does
  const late = phaseFacts(edits, steps, 1);
  let compared = applyEdits(f, edits);
  let lateProved = 0;
  if (late.length) {
    const before = cloneEdits(edits);
    for (const l of late) before.state[l.layer][l.index] = KEEP;
    compared = applyEdits(f, before);
    const re1 = phaseCensus(compared.g, domain, { boundsFn: opts.boundsFn, timeoutMs: opts.timeoutMs, claims: late, seed: opts.seed });
    // a fact counts only as claimed (a neuron removed must be proved never active, not merely stable)
    const claimed = new Map(late.map((l) => [`${l.layer}:${l.index}`, l.sign === -1 ? 'never' : 'always']));
    for (const n of re1.neurons) {
      if (n.phase === claimed.get(`${n.layer}:${n.index}`)) lateProved++;
      else notReproved.push([n.layer, n.index]);
    }
    // without every one of them the link g1 == (g1 with them applied) is not proved: compare f with the network as
    // edited instead, which the difference check bounds whatever the facts are
    if (lateProved < late.length) compared = applyEdits(f, edits);
  }
  const pf = {
    claimed: facts.length + late.length,
    reproved: proved.length + lateProved,
    boxes: re?.boxes ?? 0,
    timeMs: Date.now() - t0,
    ...(notReproved.length ? { notReproved } : {}),
  };
  const boundsFn = withPhaseFacts(opts.boundsFn, f, proved.map((p) => ({ layer: p.layer, index: p.index, sign: p.phase === 'never' ? (-1 as const) : (1 as const) })));
  const pair = compared;
  const { net: ref, map } = compact(applyEdits(f, edits).g);
  let rb = 0;
  let basisBound: number | undefined;
  let mismatch: string | undefined;
  try {
    if (basisReduced) {
      // the reduction is deterministic: re-derive it from the pruned network and bound what it changes
      const red = reduceLinearBasis(ref, { domain, boundsFn: opts.boundsFn });
      basisBound = red.bound;
      rb = red.bound + refactorBound(red.net, written, groups, domain, opts.boundsFn);
    } else if (late.length === 0 && groups.every((g) => g.length === 1) && sameLayerSizes(ref, written)) {
      // nothing folded: compare f with the written numbers and activations themselves, put back into f's
      // coordinates (exact)
      pair.g = expandToAligned(written, map);
    } else {
      rb = refactorBound(ref, written, groups, domain, opts.boundsFn);
    }
  } catch (e) {
    if (!(e instanceof PairingMismatch)) throw e;
    mismatch = e.message;
    rb = Infinity;
  }
  return { pair, rb, basisBound, phaseFacts: pf, boundsFn, phaseMs, ...(mismatch ? { mismatch } : {}) };
}

/** The claim a tolerance makes, in words, and its L-infinity slack (exact: the fixed floating-point slack). */
export function claimOf(tolerance: Tolerance, exactEps: number): { claim: string; epsilon?: number } {
  if (tolerance.kind === 'class') return { claim: `same ${tolerance.order} class wherever the original's winner leads by at least ${tolerance.margin}` };
  const eps = tolerance.kind === 'linf' ? tolerance.epsilon : exactEps;
  return { claim: `max |f(x) - g(x)| <= ${eps} for every output and every x in the domain`, epsilon: eps };
}

/** The samples contradict the claim: refuted at once, at the sampled point (no proof is run). */
function refutedBySampling(tolerance: Tolerance, exactEps: number, sampling: SamplingResult): FinalCheckResult | null {
  const { claim, epsilon } = claimOf(tolerance, exactEps);
  if (!samplingContradicts(sampling, tolerance, epsilon ?? 0)) return null;
  return { claim, epsilon, refactorBound: 0, verdict: { status: 'refuted', method: 'sampling', timeMs: 0, boxes: 0 }, sampling, witness: sampling.worst };
}

export function finalCheck(f: Network, pruned: WrittenPrune, domain: Box[], tolerance: Tolerance, exactEps: number, opts: FinalCheckOptions): FinalCheckResult {
  const { steps } = pruned;
  // 0. any sample that contradicts the claim refutes it
  const early = opts.stopOnContradiction === false ? null : refutedBySampling(tolerance, exactEps, opts.sampling);
  if (early) return early;
  // 1. re-prove, afresh, the phase facts the edits rely on, and bound what folding and storage change
  const w = pairWritten(f, pruned, domain, opts);
  const { pair, rb, basisBound, phaseFacts: pf } = w;
  if (w.mismatch) {
    return {
      phaseFacts: pf,
      ...claimOf(tolerance, exactEps),
      refactorBound: rb,
      verdict: { status: 'unknown', method: 'pairing', timeMs: 0, reason: `the stored network is not what the certificate's edits describe: ${w.mismatch}`, boxes: 0 },
      sampling: opts.sampling,
    };
  }
  opts = { ...opts, boundsFn: w.boundsFn, timeoutMs: Math.max(1000, opts.timeoutMs - w.phaseMs) };
  const sampling = opts.sampling;
  opts.onProgress?.('final check: difference of the networks', 0, 1);
  const eqOpts = {
    boundsFn: opts.boundsFn,
    outputLinearLower: opts.outputLinearLower,
    timeoutMs: opts.timeoutMs,
    seed: opts.seed + 1,
  };
  if (tolerance.kind === 'class') {
    // f's own class margins, proved afresh here (not taken from the pruning passes), each with up to a quarter of
    // the check's time and (many inputs) half of it for all: prune's check has 4x its query limit, so as long as
    // the tolerance search had for them. Only changes within the tolerance need them: exact edits leave the
    // difference at rounding level, which the class check closes without them.
    const margins = opts.outputLinearLower && steps.some((s) => s.kind.startsWith('tolerance'))
      ? provedClassMargins(f, domain, tolerance.order, { boundsFn: opts.boundsFn, outputLinearLower: opts.outputLinearLower, timeMs: Math.max(1000, opts.timeoutMs / 4), budgetMs: Math.max(2000, opts.timeoutMs / 2), seed: opts.seed + 2 })
      : null;
    const r = checkClass(pair, domain, tolerance.order, tolerance.margin, { ...eqOpts, gSlack: 2 * rb, fLower: margins?.lower });
    return {
      classMargins: margins ? { winner: margins.winner, proved: margins.proved, timeMs: margins.timeMs } : undefined,
      phaseFacts: pf,
      refactorBound: rb,
      basisBound,
      claim: claimOf(tolerance, exactEps).claim,
      ...rechecked(r.verdict, r.boxes, (x) => classChanged(forward(f, x), forward(pruned.written, x), tolerance.order, tolerance.margin)),
      sampling,
    };
  }
  const { claim, epsilon } = claimOf(tolerance, exactEps);
  const eps = epsilon!;
  if (!(rb < eps)) {
    return {
      phaseFacts: pf,
      claim,
      epsilon: eps,
      refactorBound: rb,
      basisBound,
      verdict: { status: 'unknown', method: 'refactor-bound', timeMs: 0, reason: `folding/storage error bound ${rb} leaves no room` },
      sampling,
    };
  }
  const r = checkLinf(pair, domain, eps - rb, eqOpts);
  return {
    phaseFacts: pf,
    claim,
    epsilon: eps,
    refactorBound: rb,
    basisBound,
    ...rechecked(r.verdict, r.boxes, (x) => !(worstPoint(f, pruned.written, x, 1).value <= eps)),
    provedBound: r.verdict.status === 'proved' ? r.provedBound + rb : undefined,
    sampling,
  };
}

/**
 * The verdict, with a counterexample kept only when it is one for the networks as stored (`breaks`: plain
 * evaluation of f and the written network): the search's witness is a point of the network it compared, which
 * differs from the written one by up to the refactor bound.
 */
function rechecked(v: Verdict, boxes: number, breaks: (x: Float64Array) => boolean): Pick<FinalCheckResult, 'verdict' | 'witness'> {
  if (v.status !== 'refuted') return { verdict: summary(v, boxes) };
  if (breaks(v.witness)) return { verdict: summary(v, boxes), witness: Array.from(v.witness) };
  return { verdict: { status: 'unknown', method: v.method, timeMs: v.timeMs, reason: 'a counterexample of the compared network is not one of the stored network', boxes } };
}

function summary(v: Verdict, boxes: number): FinalCheckResult['verdict'] {
  return {
    status: v.status,
    method: v.method,
    timeMs: v.timeMs,
    reason: v.status === 'unknown' ? v.reason : undefined,
    boxes,
  };
}
