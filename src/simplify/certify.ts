/**
 * Prune, then check the result as it will be stored, then certify: the one entry point that `nnshrink prune` and
 * every slice use. Storage is a callback (serialise + parse back), so this layer knows no file format; if the final
 * check does not prove the claim, it throws and nothing is written.
 */
import { sizeMetrics, type Network } from '../model/network.ts';
import { NnsError } from '../errors.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { assemble, prunePaused, type PruneOptions, type PruneResult } from './prune.ts';
import { exactSlack, finalCheck, type FinalCheckResult } from './final-check.ts';
import { sampleCompareParallel } from './sample-compare.ts';
import { KEEP, LINEAR, cloneEdits, editsToJSON } from './edits.ts';
import type { JobRunner } from '../pool/pool.ts';

/** The pruned network's final check did not prove its claim, so nothing may be written: how it ended (a refuted
 * claim; not proved in time; or a proof that sampling contradicts, a bug). */
export class FinalCheckFailed extends NnsError {
  constructor(
    message: string,
    readonly status: 'refuted' | 'unknown' | 'contradicted',
  ) {
    super(message);
  }
}

export interface CertifiedPrune {
  result: PruneResult;
  /** the network as it will be stored (read back after serialisation) */
  written: Network;
  check: FinalCheckResult;
  exactEps: number;
  /** the tolerance actually proved (a class claim gets a small positive margin when none was given) */
  tolerance: Tolerance;
  timeMs: number;
  /** set when the pruned network failed its final check and the original was kept instead: why */
  fallback?: string;
}

export interface CertifyOptions extends PruneOptions {
  /** serialise and parse back: returns the network exactly as the output file will hold it */
  roundTrip: (net: Network) => Network;
  precision: 'float32' | 'float64';
  finalTimeoutMs: number;
  finalSamples: number;
  /** threads for the final check's sample comparison (used only where it pays: many inputs, large networks) */
  sampleWorkers?: number | JobRunner;
  /** the parameters the output format needs for a network (NNet stores a linear hidden neuron as two ReLUs) */
  storedParameters?: (net: Network) => number;
}

/**
 * Where linear hidden neurons cost more than ReLUs as stored (NNet: a pair each), always-active neurons that stay
 * linear after folding can make the file larger than the original's (MNIST 10x10 on a VNN-COMP ball: 8,950
 * parameters -> 12,014). They are kept as ReLUs instead when that stores fewer parameters: on the domain they are
 * active, so relu(z) = z and the function is the same; the final check proves it as for any kept neuron.
 */
function cheaperAsStored(f: Network, r: PruneResult, stored: (net: Network) => number): PruneResult {
  const linear = new Set<string>();
  r.edits.state.forEach((s, k) => s.forEach((v, i) => v === LINEAR && linear.add(`${k}:${i}`)));
  if (!linear.size) return r;
  const alt = withNeuronsRestored(f, r, linear);
  return stored(alt.network) < stored(r.network) ? { ...alt, keptAsRelu: linear.size } : r;
}

/**
 * `r` with the given neurons (`layer:index`) as they are in f again and their steps gone, re-assembled: what every
 * fallback below does with the changes it gives up (keeping a neuron as it is is always sound).
 */
function withNeuronsRestored(f: Network, r: PruneResult, keys: Set<string>): PruneResult {
  const edits = cloneEdits(r.edits);
  for (const key of keys) {
    const [k, i] = key.split(':').map(Number);
    edits.state[k][i] = KEEP;
  }
  const steps = r.steps.filter((s) => !keys.has(`${s.layer}:${s.neuron}`) && s.kind !== 'linear-basis');
  return { ...r, ...assemble(f, edits, steps) };
}

export async function pruneAndCheck(f: Network, opts: CertifyOptions): Promise<CertifiedPrune> {
  const t0 = Date.now();
  const exactEps = exactSlack(f, opts.domain, opts.precision);
  // leave room for storage rounding and folding inside a user tolerance
  // a class claim needs a positive margin: at exact ties of the original no proof can say which output "wins"
  if (opts.tolerance.kind === 'class' && !(opts.tolerance.margin > 0)) {
    opts = { ...opts, tolerance: { ...opts.tolerance, margin: 10 * exactEps } };
  }
  const tol: Tolerance =
    opts.tolerance.kind === 'linf' ? { kind: 'linf', epsilon: opts.tolerance.epsilon * 0.98 } : opts.tolerance;
  let result = await prunePaused(f, { ...opts, tolerance: tol });
  if (opts.storedParameters) result = cheaperAsStored(f, result, opts.storedParameters);
  let written = opts.roundTrip(result.network);
  opts.onProgress?.({ phase: 'final check', done: 0, total: 1, removed: 0 });
  const seed = (opts.seed ?? 1) + 1000;
  const run = async (w: Network, r: PruneResult) =>
    finalCheck(f, { edits: r.edits, steps: r.steps, written: w, groups: r.groups, basisReduced: r.basisReduced }, opts.domain, opts.tolerance, exactEps, {
      sampling: await sampleCompareParallel(
        { f, g: w, domain: opts.domain, tolerance: opts.tolerance, count: opts.finalSamples, seed, onSampled: (d, t) => opts.onProgress?.({ phase: 'final check: sampling', done: d, total: t, removed: 0 }) },
        opts.sampleWorkers ?? 1,
      ),
      boundsFn: opts.boundsFn,
      outputLinearLower: opts.outputLinearLower,
      // a fresh proof re-does what the census proved: give it at least the census's time again
      timeoutMs: Math.max(opts.finalTimeoutMs, r.census.timeMs),
      seed,
      onProgress: (step, done, total) => opts.onProgress?.({ phase: step, done, total, removed: 0 }),
      stopOnContradiction: false,
    });
  let check = await run(written, result);
  const lost = check.phaseFacts?.notReproved;
  if (check.verdict.status !== 'proved' && lost?.length) {
    // phase facts the fresh proof could not redo in time: keep those neurons (always sound) and check again
    const back = new Set(lost.map(([k, i]) => `${k}:${i}`));
    for (const s of result.steps) {
      if (s.kind === 'merge' || s.kind === 'tolerance-merge') {
        if (back.has(`${s.layer}:${s.into}`)) back.add(`${s.layer}:${s.neuron}`);
      }
    }
    result = withNeuronsRestored(f, result, back);
    written = opts.roundTrip(result.network);
    check = await run(written, result);
  }
  if (check.verdict.status === 'unknown' && (check.verdict.method === 'refactor-bound' || check.refactorBound > 0)) {
    // the rounding of folded layers or of the basis re-expression leaves no room (in class mode it eats the margin
    // that closes boxes at once): keep the layers unfolded, compared with f coefficient by coefficient
    result.network = result.compactNetwork;
    result.basisReduced = false;
    result.steps = result.steps.filter((s) => s.kind !== 'linear-basis');
    result.groups = result.compactNetwork.layers.map((_, k) => [k]);
    result.after = sizeMetrics(result.network);
    written = opts.roundTrip(result.network);
    check = await run(written, result);
  }
  if (check.verdict.status !== 'proved' && result.steps.some((s) => s.kind.startsWith('tolerance'))) {
    // the search proved its changes with the census's phase facts and its own time; a fresh check that cannot
    // redo all of it (MNIST 256x2 prop_1_0.05, epsilon 0.5) still has the exact result, valid within any tolerance
    const changed = new Set(result.steps.filter((s) => s.kind.startsWith('tolerance') || s.stage === 1).map((s) => `${s.layer}:${s.neuron}`));
    result = { ...withNeuronsRestored(f, result, changed), toleranceDropped: changed.size };
    written = opts.roundTrip(result.network);
    check = await run(written, result);
  }
  if (check.verdict.status !== 'proved') {
    const why =
      check.verdict.status === 'refuted'
        ? `a counterexample was found at x = [${check.witness?.map((v) => v.toPrecision(6)).join(', ')}]`
        : `the verifier gave up (${check.verdict.reason ?? 'unknown'})`;
    throw new FinalCheckFailed(`final check failed: could not prove "${check.claim}": ${why}; no output was written`, check.verdict.status);
  }
  if (opts.tolerance.kind === 'class' ? (check.sampling.classDisagreements ?? 0) > 0 : check.sampling.maxAbsDiff > (check.epsilon ?? Infinity)) {
    throw new FinalCheckFailed('final check failed: random sampling contradicts the proof (this is a bug in nnshrink); no output was written', 'contradicted');
  }
  return { result, written, check, exactEps, tolerance: opts.tolerance, timeMs: Date.now() - t0 };
}

export { editsToJSON };
