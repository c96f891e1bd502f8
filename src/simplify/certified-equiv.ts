/**
 * Equivalence of an original f and a network nnshrink pruned from it, paired through the pruning's edits (what its
 * certificate records): the same chain as the final check (f ~ edits applied ~ written, see final-check.ts), asked
 * the user's question on the user's domain. Where B's layer sizes differ from A's, this is the layer-by-layer
 * difference instead of the product network (ACAS Xu 1_1 pruned on property 6: proved in 0.1 s where the product
 * network was still open after 60 s). Witnesses are re-checked on f and the written network themselves.
 */
import { forward, type Network } from '../model/network.ts';
import { samplePoints, type Box } from '../model/box.ts';
import { mulberry32 } from '../model/rng.ts';
import { checkClass, checkLinf, worstPoint, type BoundsFn, type OutputLinearLower } from '../verify/equiv/equiv.ts';
import { winnerMargins } from '../verify/equiv/class-relu-split.ts';
import { manyInputs } from '../verify/search/split.ts';
import { classChanged } from '../verify/tolerance.ts';
import { pairWritten, type WrittenPrune } from './final-check.ts';

export type EquivQuestion = { kind: 'linf'; epsilon: number } | { kind: 'class'; order: 'argmax' | 'argmin'; margin: number };

export interface CertifiedEquivResult {
  result: 'proved' | 'refuted' | 'unknown';
  method: string;
  reason?: string;
  /** linf: proved max |f - written| (the difference check's bound plus the folding/storage bound) */
  provedMaxDiff?: number | null;
  /** linf: the largest |f - written| seen at a point */
  foundMaxDiff?: number;
  witness?: number[];
  boxes: number;
  timeMs: number;
  /** phase facts of the pruning re-proved on this domain (a fact that does not hold here is simply not used) */
  phaseFacts: { claimed: number; reproved: number };
  /** sound bound of what folding and storage change (charged to the proved bound) */
  refactorBound: number;
}

export interface CertifiedEquivOptions {
  boundsFn: BoundsFn;
  outputLinearLower: OutputLinearLower;
  timeoutMs: number;
  /** a work limit for the difference check (boxes), so the answer does not depend on the machine's pace */
  maxBoxes?: number;
  seed?: number;
  onProgress?: (step: string) => void;
}

export function equivThroughEdits(f: Network, p: WrittenPrune, domain: Box[], q: EquivQuestion, opts: CertifiedEquivOptions): CertifiedEquivResult {
  const t0 = Date.now();
  const seed = opts.seed ?? 1;
  // the facts get half the time at most; what they cannot re-prove in it is not used
  const w = pairWritten(f, p, domain, {
    boundsFn: opts.boundsFn,
    timeoutMs: opts.timeoutMs / 2,
    seed,
    onProgress: (step) => opts.onProgress?.(step),
  });
  const left = (): number => Math.max(1, opts.timeoutMs - (Date.now() - t0));
  const base = { phaseFacts: { claimed: w.phaseFacts.claimed, reproved: w.phaseFacts.reproved }, refactorBound: w.rb };
  if (w.mismatch) {
    return { ...base, result: 'unknown', method: 'pairing', reason: `B is not what the certificate's edits describe: ${w.mismatch}`, boxes: 0, timeMs: Date.now() - t0 };
  }
  const eqOpts = { boundsFn: w.boundsFn, outputLinearLower: opts.outputLinearLower, seed: seed + 1, ...(opts.maxBoxes !== undefined ? { maxBoxes: opts.maxBoxes } : {}) };
  opts.onProgress?.('difference of the networks');
  if (q.kind === 'class') {
    const margins = manyInputs(f.inputSize) ? winnerMargins(f, domain, q.order, { ...eqOpts, timeoutMs: left() / 2 }) : null;
    const r = checkClass(w.pair, domain, q.order, q.margin, { ...eqOpts, timeoutMs: left(), gSlack: 2 * w.rb, fLower: margins?.lower });
    const v = r.verdict;
    if (v.status === 'refuted') {
      // a point where the compared network changes class; it counts only if the written one does too
      if (classChanged(forward(f, v.witness), forward(p.written, v.witness), q.order, q.margin)) {
        return { ...base, result: 'refuted', method: v.method, witness: Array.from(v.witness), boxes: r.boxes, timeMs: Date.now() - t0 };
      }
      return { ...base, result: 'unknown', method: v.method, reason: 'a witness on the unfolded network is not one on the written network', boxes: r.boxes, timeMs: Date.now() - t0 };
    }
    return { ...base, result: v.status, method: v.method, reason: v.status === 'unknown' ? v.reason : undefined, boxes: r.boxes, timeMs: Date.now() - t0 };
  }
  const eps = q.epsilon;
  // the largest difference of the networks as written, at the witness search's own points and fresh samples
  let found = 0;
  let witness: Float64Array | null = null;
  const rng = mulberry32(seed + 3);
  for (const box of domain) {
    const xs = samplePoints(box, 1000, rng);
    const wp = worstPoint(f, p.written, xs, 1000);
    if (wp.value > found) {
      found = wp.value;
      witness = xs.slice(wp.index * f.inputSize, (wp.index + 1) * f.inputSize);
    }
  }
  if (eps > 0 && found > eps && witness) {
    return { ...base, result: 'refuted', method: 'sampling', provedMaxDiff: null, foundMaxDiff: found, witness: Array.from(witness), boxes: 0, timeMs: Date.now() - t0 };
  }
  if (eps > 0 && !(w.rb < eps)) {
    return { ...base, result: 'unknown', method: 'refactor-bound', reason: `folding/storage error bound ${w.rb} leaves no room`, provedMaxDiff: null, foundMaxDiff: found, boxes: 0, timeMs: Date.now() - t0 };
  }
  const r = checkLinf(w.pair, domain, eps === 0 ? 0 : eps - w.rb, { ...eqOpts, timeoutMs: left(), maxBoxes: opts.maxBoxes ?? (eps === 0 ? 20000 : undefined) });
  const v = r.verdict;
  if (v.status === 'refuted') {
    const d = worstPoint(f, p.written, v.witness, 1).value;
    found = Math.max(found, d);
    if (d > eps) return { ...base, result: 'refuted', method: v.method, provedMaxDiff: null, foundMaxDiff: found, witness: Array.from(v.witness), boxes: r.boxes, timeMs: Date.now() - t0 };
    return { ...base, result: 'unknown', method: v.method, reason: 'a witness on the unfolded network is not one on the written network', provedMaxDiff: null, foundMaxDiff: found, boxes: r.boxes, timeMs: Date.now() - t0 };
  }
  return {
    ...base,
    result: v.status,
    method: v.method,
    reason: v.status === 'unknown' ? v.reason : undefined,
    provedMaxDiff: v.status === 'proved' ? r.provedBound + w.rb : null,
    foundMaxDiff: found,
    boxes: r.boxes,
    timeMs: Date.now() - t0,
  };
}
