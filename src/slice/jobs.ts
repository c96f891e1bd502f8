/** Slice pruning as a plain-data job, so the pool can run slices in worker threads (results do not depend on it). */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { crownBounds } from '../bounds/backward.ts';
import { symbolicBounds } from '../bounds/symbolic.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { jsonNetworkText, parseJsonNetwork } from '../formats/json.ts';
import { pruneAndCheck, type CertifiedPrune } from '../simplify/certify.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { NnsError } from '../errors.ts';
import type { VnnProperty } from '../formats/vnnlib.ts';
import { decideProperty, type PropertyResult } from '../verify/property/property.ts';
import { manyInputs } from '../verify/search/split.ts';

export interface SliceJob {
  f: Network;
  /** the slice's box, or the parts of a domain of several boxes it holds */
  domain: Box[];
  tolerance: Tolerance;
  bounds: 'crown' | 'symbolic';
  queryTimeoutMs: number;
  toleranceBudgetMs?: number;
  finalTimeoutMs: number;
  finalSamples: number;
  seed: number;
  finishTasks?: number;
  /** a work limit of every search (prune's maxBoxes): the slice then does not depend on the pace */
  maxBoxes?: number;
}

/** One slice's share of a property (family-verify.ts). */
export interface VerifySliceJob {
  net: Network;
  prop: VnnProperty;
  timeoutMs: number;
}

export async function verifySliceJob(job: VerifySliceJob): Promise<PropertyResult> {
  // with many inputs what ReLU splitting leaves goes to an exact MILP (the solver loads once per thread)
  if (manyInputs(job.net.inputSize)) await loadMilpSolver();
  return decideProperty(job.net, job.prop, { boundsFn: crownBounds, outputLinearLower, timeoutMs: job.timeoutMs });
}

export async function pruneSliceJob(job: SliceJob): Promise<CertifiedPrune> {
  await loadMilpSolver();
  try {
    return await pruneSlice(job, false);
  } catch (e) {
    if (!(e instanceof NnsError)) throw e;
    // the pruned slice could not be proved in time: this slice keeps the original network (checked all the same),
    // so one hard slice costs size, not the whole family
    return { ...(await pruneSlice(job, true)), fallback: e.message };
  }
}

function pruneSlice(job: SliceJob, keepEverything: boolean): Promise<CertifiedPrune> {
  return pruneAndCheck(job.f, {
    keepEverything,
    domain: job.domain,
    tolerance: job.tolerance,
    boundsFn: job.bounds === 'crown' ? crownBounds : symbolicBounds,
    outputLinearLower,
    queryTimeoutMs: job.queryTimeoutMs,
    toleranceBudgetMs: job.toleranceBudgetMs,
    // slices are stored as nnshrink JSON (exact float64): the check runs on what that file holds
    roundTrip: (net) => parseJsonNetwork(jsonNetworkText(net), 'slice').network,
    precision: 'float64',
    finalTimeoutMs: job.finalTimeoutMs,
    finalSamples: job.finalSamples,
    seed: job.seed,
    finishTasks: job.finishTasks,
    ...(job.maxBoxes !== undefined ? { maxBoxes: job.maxBoxes } : {}),
  });
}
