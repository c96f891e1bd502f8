/**
 * The proof of a quantised network g against its original f on a domain: max |f - g| over the outputs, by the
 * layer-by-layer difference of two chains of the same sizes (the 'diff' method of equiv), in exact arithmetic on
 * the stored numbers, plus the bound of float32 evaluation (rounding.ts). So a proved E covers onnxruntime's output
 * on the file: |ORT(g)(x) - f(x)| <= E for every x of the domain (fed as float32) and every output.
 */
import type { Box } from '../../model/box.ts';
import type { Network } from '../../model/network.ts';
import { checkClass, checkLinf, type BoundsFn, type OutputLinearLower } from '../../verify/equiv/equiv.ts';
import { alignedPair } from '../../verify/equiv/diff/diff-pair.ts';
import { float32Rounding, roundingFromDiff } from './rounding.ts';
import { winnerMargins } from '../../verify/equiv/class-relu-split.ts';
import { manyInputs } from '../../verify/search/split.ts';
import type { ActScheme } from './activations.ts';

export interface ProveOptions {
  boundsFn: BoundsFn;
  outputLinearLower?: OutputLinearLower;
  timeoutMs: number;
  /** the work limit of one proof (boxes bounded); its answer then does not depend on the machine's pace */
  maxBoxes?: number;
  seed?: number;
  /** how g's hidden outputs are stored (activations.ts; default: float32): their errors join the rounding bound */
  act?: ActScheme;
}

export interface QuantProof {
  status: 'proved' | 'refuted' | 'unknown';
  /** the tolerance asked for (epsilon 0: the bound-finding mode) */
  epsilon: number;
  /** proved: |ORT(g) - f| <= provedBound (exact difference + rounding); Infinity when nothing was proved */
  provedBound: number;
  /** the float32 evaluation bound included in provedBound */
  rounding: number;
  /** the largest exact |f - g| found at a point of the domain */
  foundMax: number;
  boxes: number;
  timeMs: number;
  reason?: string;
  witness?: number[];
}

/**
 * Proves |ORT(g) - f| <= epsilon; epsilon 0: the smallest bound the work limit gives (reported as proved). Each box
 * of the search bounds |f - g| plus g's float32 evaluation error on that box (roundingFromDiff, at most the
 * domain's bound R): the small boxes a search ends with have far smaller activations than the domain.
 */
export function proveQuantized(f: Network, g: Network, domain: Box[], epsilon: number, opts: ProveOptions, rounding?: number): QuantProof {
  const t0 = Date.now();
  const R = rounding ?? float32Rounding(g, domain, opts.boundsFn, opts.act);
  const r = checkLinf(alignedPair(f, g), domain, epsilon, {
    boundsFn: opts.boundsFn,
    outputLinearLower: opts.outputLinearLower,
    timeoutMs: opts.timeoutMs,
    maxBoxes: opts.maxBoxes,
    seed: opts.seed,
    boxSlack: (box, fb, d) => Math.min(R, roundingFromDiff(g, box, fb, d, opts.act)),
  });
  const v = r.verdict;
  const common = { epsilon, rounding: r.slack ?? R, foundMax: r.foundMax, boxes: r.boxes, timeMs: Date.now() - t0 };
  if (v.status === 'proved') return { ...common, status: 'proved', provedBound: r.provedBound };
  if (v.status === 'refuted') {
    // a point where the exact difference exceeds epsilon: float32 evaluation there may still land within epsilon,
    // unless the exact difference exceeds epsilon + R
    const beyond = r.foundMax > epsilon + R;
    return {
      ...common,
      status: beyond ? 'refuted' : 'unknown',
      provedBound: Infinity,
      witness: Array.from(v.witness),
      reason: beyond ? undefined : `|f - g| reaches ${r.foundMax} at a point, more than epsilon, within the float32 rounding bound (${R}) of it`,
    };
  }
  const why = epsilon > 0 && !(R < epsilon) ? ` (float32 evaluation alone may differ by ${R} on the domain)` : '';
  return { ...common, status: 'unknown', provedBound: Infinity, reason: `${v.reason}${why}` };
}

export interface AutoEpsilon {
  /** the smallest proved E */
  epsilon: number;
  proof: QuantProof;
  /** the largest E tried and not proved (or the largest |f - g| found: nothing less holds) */
  lowerEnd: number;
  /** whether lowerEnd was itself tried (and not proved) */
  lowerTried: boolean;
  steps: Array<{ epsilon: number; status: QuantProof['status'] }>;
}

/**
 * --epsilon auto: the bound-finding run gives a first proved E (checked as a claim), then `steps` bisections
 * (geometric: E spans orders of magnitude) between the largest found difference and it, each a proof with the same
 * work limit. When not even the first claim is proved: `failed`, the bound-finding run's proof marked unknown.
 */
export function autoEpsilon(f: Network, g: Network, domain: Box[], opts: ProveOptions, steps = 8): AutoEpsilon | { failed: QuantProof } {
  const R = float32Rounding(g, domain, opts.boundsFn, opts.act);
  const first = proveQuantized(f, g, domain, 0, opts, R);
  const failed = { failed: { ...first, status: 'unknown' as const, reason: 'no bound proved within the work limit' } };
  if (!Number.isFinite(first.provedBound)) return failed;
  const tried: AutoEpsilon['steps'] = [];
  const attempt = (e: number): QuantProof => {
    const p = proveQuantized(f, g, domain, e, opts, R);
    tried.push({ epsilon: e, status: p.status });
    return p;
  };
  let hi = first.provedBound;
  let best = attempt(hi);
  // the bound-finding run and the claim refine the same boxes; widen a little if the claim misses by rounding
  for (let i = 0; i < 3 && best.status !== 'proved'; i++) best = attempt((hi *= 1.5));
  if (best.status !== 'proved') return failed;
  // nothing below the largest exact difference found holds (float32 evaluation may add to it, not only take)
  let lo = Math.max(first.foundMax, best.foundMax);
  let lowerTried = false;
  for (let i = 0; i < steps && hi > lo * (1 + 1e-6); i++) {
    const mid = lo > 0 ? Math.sqrt(lo * hi) : hi / 2;
    const p = attempt(mid);
    if (p.status === 'proved') {
      hi = mid;
      best = p;
    } else {
      lo = mid;
      lowerTried = true;
    }
  }
  return { epsilon: hi, proof: best, lowerEnd: lo, lowerTried, steps: tried };
}

/**
 * The class claim: wherever f's winner leads by at least `margin`, g (evaluated in float32) has the same winner.
 * Each of g's scores is known within the rounding bound R, so g's winner must lead by 2R (gSlack); with many inputs
 * f's own class margins (half the time) let ReLU splitting on g settle it, as equiv does.
 */
export function proveQuantizedClass(f: Network, g: Network, domain: Box[], order: 'argmax' | 'argmin', margin: number, opts: ProveOptions, rounding?: number): QuantProof {
  const t0 = Date.now();
  const R = rounding ?? float32Rounding(g, domain, opts.boundsFn, opts.act);
  const eq = { boundsFn: opts.boundsFn, outputLinearLower: opts.outputLinearLower, timeoutMs: opts.timeoutMs, maxBoxes: opts.maxBoxes, seed: opts.seed };
  const margins = manyInputs(f.inputSize) && opts.outputLinearLower ? winnerMargins(f, domain, order, { ...eq, outputLinearLower: opts.outputLinearLower }) : null;
  const r = checkClass(alignedPair(f, g), domain, order, margin, { ...eq, timeoutMs: Math.max(1, opts.timeoutMs - (Date.now() - t0)), gSlack: 2 * R, fLower: margins?.lower });
  const v = r.verdict;
  const common = { epsilon: 0, rounding: R, provedBound: Infinity, foundMax: 0, boxes: r.boxes, timeMs: Date.now() - t0 };
  if (v.status === 'proved') return { ...common, status: 'proved' };
  // a witness of the exact networks: with rounding, float32 evaluation could still keep the class there
  if (v.status === 'refuted') return { ...common, status: R > 0 ? 'unknown' : 'refuted', witness: Array.from(v.witness), reason: R > 0 ? 'the class changes at a point in exact arithmetic' : undefined };
  return { ...common, status: 'unknown', reason: v.reason };
}
