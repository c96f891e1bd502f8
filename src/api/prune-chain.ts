/**
 * prune of a chain (dense layers): the census, the prune and its final check about the file as it will be stored,
 * and the certificate, as `nnshrink prune` runs it (the command parses, calls this, prints and writes).
 */
import { formatOf, modelBytes, parseModelBytes } from '../formats/load.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import { hiddenLinearNeurons, linearAsReluPairs, nnetStoredAs } from '../formats/nnet.ts';
import { boxHull, type Box } from '../model/box.ts';
import { sizeMetrics, type Network, type SizeMetrics } from '../model/network.ts';
import { crownBounds } from '../bounds/backward.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { BOUND_WIDENING_TEXT } from '../bounds/round.ts';
import { FinalCheckFailed, pruneAndCheck, type CertifiedPrune, type CertifyOptions } from '../simplify/certify.ts';
import { censusOptions, type PruneProgress } from '../simplify/prune.ts';
import { buildCertificate, pathForCertificate, type Certificate } from '../simplify/certificate.ts';
import { editsToJSON } from '../simplify/edits.ts';
import { vacuity } from '../simplify/vacuity.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { phaseCensusParallel } from '../verify/phase/phase.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { NnsError, fail } from '../errors.ts';
import type { JobRunner } from '../pool/pool.ts';
import { VERSION } from '../version.ts';
import { checkpoint, reporter, type Progress, type RunOptions } from './run.ts';

/** What a chain prune is asked (the library's prune options, resolved). */
export interface ChainPruneAsk extends RunOptions {
  domain: Box[];
  tolerance: Tolerance;
  output: string;
  certificate: string;
  precision?: 'float32' | 'float64';
  timeoutMs: number;
  seed: number;
  maxBoxes?: number;
  /** threads for the census and the sampling, or a runner (the job queue) that runs their jobs elsewhere */
  workers: number | JobRunner;
  /** said before the work (the claim would be vacuous) */
  onWarning?: (message: string) => void;
}

/** What a chain prune proved and wrote, as `prune --json` prints it (beside the output's and certificate's paths). */
export interface ChainPruneSummary {
  kind: 'chain';
  /** set when the tolerance is wider than the outputs' whole range: any network would do */
  vacuous?: string;
  before: SizeMetrics;
  after: SizeMetrics;
  /** an NNet file's own size when it stores linear neurons as ReLU pairs */
  stored?: SizeMetrics;
  census: Certificate['census'];
  toleranceSearch?: CertifiedPrune['result']['toleranceSearch'];
  keptAsRelu?: number;
  toleranceDropped?: number;
  finalCheck: CertifiedPrune['check'];
  timeMs: number;
}

export interface ChainPruneRun {
  network: Network;
  certificate: Certificate;
  summary: ChainPruneSummary;
  /** the files to write as one set: the network, then its certificate */
  files: Array<{ path: string; data: Uint8Array | string }>;
  /** the whole run, for the command's text */
  run: CertifiedPrune;
  reluPairs?: number[][];
}

/** A final check that did not prove the result: an NnsError of its outcome (refuted, not proved, a bug). */
function outcome(e: unknown): never {
  if (!(e instanceof FinalCheckFailed)) throw e;
  throw new NnsError(e.message, { code: e.status === 'refuted' ? 'refuted' : e.status === 'contradicted' ? 'internal' : 'not-proved' });
}

const asProgress = (p: PruneProgress): Progress => ({
  stage: p.phase,
  done: p.done,
  total: p.total,
  detail: [p.removed ? `changed ${p.removed}` : '', p.extra ?? ''].join(' ').trim(),
  ...(p.leftS !== undefined ? { leftMs: p.leftS * 1000 } : {}),
});

export async function pruneChainRun(model: LoadedModel, a: ChainPruneAsk): Promise<ChainPruneRun> {
  const t0 = Date.now();
  const fmtOut = formatOf(a.output);
  // an ONNX output keeps the source's element type (a drop-in replacement); else float64: float32 storage is a
  // perturbation the final check must prove small, which can be costly
  const source = fmtOut === 'onnx' ? model.onnx : undefined;
  const precision = a.precision ?? source?.precision ?? 'float64';
  if (fmtOut !== 'onnx' && precision === 'float32') fail('--precision float32 applies to ONNX output only');
  const f = model.network;
  const boundsFn = crownBounds;
  // a tolerance wider than the outputs' whole range allows any network: said before the work, not after
  const vacuous = vacuity(f, a.domain, a.tolerance, boundsFn);
  if (vacuous) a.onWarning?.(`the claim would be vacuous: ${vacuous}`);
  await loadMilpSolver();
  const progress = reporter(a);
  const writeDomain = boxHull(a.domain);
  let bytes: Uint8Array | string = '';
  const roundTrip = (net: Network): Network => {
    bytes = modelBytes(net, fmtOut, { domain: writeDomain, precision, inputShape: model.inputShape, ...(source ? { source } : {}) });
    const back = parseModelBytes(bytes, fmtOut, a.output).network;
    // NNet stores linear hidden neurons as ReLU pairs: the same function, checked in the pruned network's shape
    return fmtOut === 'nnet' ? nnetStoredAs(net, back) : back;
  };
  const popts: CertifyOptions = {
    domain: a.domain,
    tolerance: a.tolerance,
    boundsFn,
    outputLinearLower,
    queryTimeoutMs: a.timeoutMs,
    toleranceBudgetMs: a.timeoutMs * 10,
    roundTrip,
    precision,
    finalTimeoutMs: a.timeoutMs * 4,
    finalSamples: 100_000,
    sampleWorkers: a.workers,
    ...(fmtOut === 'nnet' ? { storedParameters: (net: Network) => sizeMetrics(linearAsReluPairs(net)).parameters } : {}),
    seed: a.seed,
    // a work limit per search: with a generous time limit the result no longer depends on the machine's pace
    ...(a.maxBoxes !== undefined ? { maxBoxes: a.maxBoxes } : {}),
    onProgress: (p) => progress(asProgress(p)),
    // between tolerance queries: a timer's abort fires and is seen there, not only when the stage ends
    pause: () => checkpoint(a.signal),
  };
  // the census's tree parts and finishing tasks run on the worker pool or the queue (each with its own limits: the
  // same verdicts for any number of workers)
  popts.onProgress?.({ phase: 'phase census', done: 0, total: 1, removed: 0 });
  // the census also reports from a timer, where a throw would escape every caller: its abort is seen when it ends
  const censusOpts = censusOptions({ ...popts, onProgress: (p) => a.onProgress?.(asProgress(p)) });
  const census = await phaseCensusParallel(f, a.domain, censusOpts, a.workers);
  await checkpoint(a.signal);
  const r = await pruneAndCheck(f, { ...popts, census }).catch(outcome);
  await checkpoint(a.signal);
  const linear = hiddenLinearNeurons(r.written);
  const reluPairs = fmtOut === 'nnet' && linear.some((l) => l.length > 0) ? linear : undefined;
  // the file's own size when it holds ReLU pairs
  const stored = reluPairs ? sizeMetrics(linearAsReluPairs(r.written)) : undefined;
  const cert = buildCertificate({
    inputPath: pathForCertificate(a.certificate, model.path),
    inputView: model.view,
    original: f,
    outputPath: pathForCertificate(a.certificate, a.output),
    written: r.written,
    precision,
    reluPairs,
    domain: a.domain,
    tolerance: r.tolerance,
    exactTolerance: r.exactEps,
    boundWidening: BOUND_WIDENING_TEXT,
    census: r.result.census,
    steps: r.result.steps,
    edits: editsToJSON(r.result.edits),
    groups: r.result.groups,
    basisReduced: r.result.basisReduced,
    finalCheck: r.check,
    before: r.result.before,
    after: r.result.after,
    totalTimeMs: Date.now() - t0,
    version: VERSION,
  });
  const res = r.result;
  const summary: ChainPruneSummary = {
    kind: 'chain',
    ...(vacuous ? { vacuous } : {}),
    before: res.before,
    after: res.after,
    ...(stored ? { stored } : {}),
    census: cert.census,
    ...(res.toleranceSearch ? { toleranceSearch: res.toleranceSearch } : {}),
    ...(res.keptAsRelu ? { keptAsRelu: res.keptAsRelu } : {}),
    ...(res.toleranceDropped ? { toleranceDropped: res.toleranceDropped } : {}),
    finalCheck: r.check,
    timeMs: cert.totalTimeMs,
  };
  const files = [{ path: a.output, data: bytes }, { path: a.certificate, data: JSON.stringify(cert, null, 1) + '\n' }];
  return { network: r.written, certificate: cert, summary, files, run: r, ...(reluPairs ? { reluPairs } : {}) };
}
