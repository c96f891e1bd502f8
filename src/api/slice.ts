/**
 * `slice(model, options)`: the domain split into boxes and the network pruned on each, every slice proved against
 * the original on its box, the family checked through its dispatcher, and the family directory (and, if asked, its
 * single ONNX file and an HTML report) written as one set, as `nnshrink slice` does (the command is this call).
 */
import { checkOutputs } from '../formats/atomic.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import type { Box } from '../model/box.ts';
import { sizeMetrics, type Network } from '../model/network.ts';
import { crownBounds } from '../bounds/backward.ts';
import type { Certificate } from '../simplify/certificate.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import type { JobRunner } from '../pool/pool.ts';
import { sliceNetwork, type SliceRun } from '../slice/slicer.ts';
import type { Partition } from '../slice/partition.ts';
import { checkFamilyTarget, writeFamily, type FamilyManifest } from '../slice/family.ts';
import { buildFamily, familyOnnx, sliceLimits } from '../slice/family-build.ts';
import { sliceReport } from '../report/slice.ts';
import { fail } from '../errors.ts';
import { VERSION } from '../version.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';

/** The options of {@link slice}. */
export interface SliceOptions extends RunOptions {
  /** the family's directory (new, or a family to replace) */
  output: string;
  /** also the family as one ONNX file with its dispatcher */
  onnx?: string;
  /** also one self-contained HTML page: the slice boxes in two inputs, coloured by ReLUs per slice, a histogram */
  report?: string;
  /** the report's two inputs (from 0; default the two the split tree cuts most) */
  reportDims?: [number, number];
  /** the input domain (default: the model file's own) */
  domain?: Box | Box[];
  /** the file the domain was read from (a VNN-LIB file): refused as an output, like the model's own file */
  domainFile?: string;
  /** adaptive (default: cut where it stabilises neurons) or uniform (every input halved `levels` times) */
  strategy?: 'uniform' | 'adaptive';
  levels?: number;
  /** adaptive: at most this many slices */
  maxSlices?: number;
  /** what each slice keeps (default exact) */
  tolerance?: Tolerance;
  /** the time limit of one query in milliseconds (default 10,000) */
  timeoutMs?: number;
  /** a work limit (boxes bounded) of every search of every slice: with a generous time limit the family is then
   * the same on any machine and for any number of workers (default: the time limit alone decides) */
  maxBoxes?: number;
  /** worker threads (default 1), or a JobRunner (the job queue: src/queue; its owner closes it); the family does
   * not depend on it */
  workers?: number | JobRunner;
  /** false: slice and prove without writing (default true) */
  write?: boolean;
}

/** One slice as {@link slice} gives it back. */
export interface SliceResult {
  box: Box;
  network: Network;
  certificate: Certificate;
  reluNeurons: number;
  parameters: number;
  /** why this slice kept the original network (its pruned version was not proved in time) */
  fallback?: string;
}

/** What {@link slice} gives back: the slices, the manifest, the split tree, the family check. */
export interface Sliced {
  manifest: FamilyManifest;
  slices: SliceResult[];
  /** the split tree, its root box, the domain's own boxes (several-box domains) and the cuts that gained nothing */
  partition: Pick<Partition, 'root' | 'tree' | 'regions' | 'cutsWithoutGain'>;
  familyCheck: SliceRun['familyCheck'];
  /** the original network's ReLU neurons and parameters */
  before: { reluNeurons: number; parameters: number };
  timeMs: number;
}

/**
 * Slices a chain model's domain and prunes each slice (see {@link SliceOptions}). A slice whose pruned network is
 * not proved in time keeps the original network, as its certificate says. Rejects with an NnsError (`bad-input`,
 * `aborted`; nothing written).
 */
export async function slice(model: LoadedModel, options: SliceOptions): Promise<Sliced> {
  const f = model.network;
  const d = options.domain ?? model.domain ?? fail(`${model.path}: the model states no input domain; give one (options.domain)`);
  const domain = Array.isArray(d) ? d : [d];
  const out = options.output;
  const write = options.write !== false;
  if (write) checkSliceOutputs(model.path, options);
  const strategy = options.strategy ?? 'adaptive';
  const tolerance = options.tolerance ?? { kind: 'exact' as const };
  const report = reporter(options);
  await loadMilpSolver();
  const run = await sliceNetwork(f, domain, {
    strategy,
    ...(options.levels !== undefined ? { levels: options.levels } : {}),
    ...(options.maxSlices !== undefined ? { maxSlices: options.maxSlices } : {}),
    tolerance,
    boundsFn: crownBounds,
    bounds: 'crown',
    ...sliceLimits(options.timeoutMs ?? 10_000),
    ...(options.maxBoxes !== undefined ? { maxBoxes: options.maxBoxes } : {}),
    workers: typeof options.workers === 'object' ? options.workers : Math.max(1, Math.floor(options.workers ?? 1)),
    onProgress: (done, total, mean) => report({ stage: 'slicing', done, total, detail: `mean ReLUs ${mean.toFixed(1)}` }),
  });
  await checkpoint(options.signal);
  const fam = buildFamily(f, model.path, model.view, run, tolerance, strategy, out, VERSION);
  const before = sizeMetrics(f);
  const sliced: Sliced = {
    manifest: fam.manifest,
    slices: run.slices.map((s, i) => ({
      box: run.partition.boxes[i],
      network: s.written,
      certificate: fam.certificates[i],
      reluNeurons: s.result.after.reluNeurons,
      parameters: s.result.after.parameters,
      ...(s.fallback ? { fallback: s.fallback } : {}),
    })),
    partition: { root: run.partition.root, tree: run.partition.tree, regions: run.partition.regions, cutsWithoutGain: run.partition.cutsWithoutGain },
    familyCheck: run.familyCheck,
    before: { reluNeurons: before.reluNeurons, parameters: before.parameters },
    timeMs: run.timeMs,
  };
  // one set: the family directory, the single ONNX file and the report, or none of them
  const extra = [
    ...(options.onnx ? [{ path: options.onnx, data: familyOnnx(run) }] : []),
    ...(options.report ? [{ path: options.report, data: reportPage(model.path, out, strategy, sliced, options.reportDims) }] : []),
  ];
  if (write) writeFamily(out, fam.manifest, fam.files, extra);
  return sliced;
}

/** -o DIR (a new directory or a family to replace), the ONNX file and the report, checked before any slicing. */
function checkSliceOutputs(modelPath: string, o: SliceOptions): void {
  const file = (p: string | undefined, what: string) => (p ? [{ path: p, what, kind: 'file' as const }] : []);
  checkOutputs(
    [{ path: o.output, what: '-o', kind: 'dir' }, ...file(o.onnx, '--onnx'), ...file(o.report, '--report')],
    [...(modelPath === '<default>' ? [] : [{ path: modelPath, what: 'MODEL' }]), ...(o.domainFile ? [{ path: o.domainFile, what: '--vnnlib' }] : [])],
  );
  checkFamilyTarget(o.output);
}

function reportPage(model: string, family: string, strategy: string, s: Sliced, dims?: [number, number]): string {
  return sliceReport({
    model, family, strategy,
    boxes: s.slices.map((x) => x.box),
    relu: s.slices.map((x) => x.reluNeurons),
    parameters: s.slices.map((x) => x.parameters),
    sourceRelu: s.before.reluNeurons, sourceParameters: s.before.parameters,
    root: s.partition.root, tree: s.partition.tree, ...(dims ? { dims } : {}),
    familyCheck: s.familyCheck, fallbackSlices: s.slices.filter((x) => x.fallback).length, timeMs: s.timeMs, version: VERSION,
  });
}
