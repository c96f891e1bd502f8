/**
 * `slice(model, options)`: the domain split into boxes and the network pruned on each, every slice proved against
 * the original on its box, the family checked through its dispatcher, and the family directory (and, if asked, its
 * single ONNX file) written as one set, as `nnshrink slice` does.
 */
import { checkOutputs } from '../formats/atomic.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import type { Box } from '../model/box.ts';
import type { Network } from '../model/network.ts';
import { crownBounds } from '../bounds/backward.ts';
import type { Certificate } from '../simplify/certificate.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { sliceNetwork, type SliceRun } from '../slice/slicer.ts';
import { checkFamilyTarget, writeFamily, type FamilyManifest } from '../slice/family.ts';
import { buildFamily, familyOnnx, sliceLimits } from '../slice/family-build.ts';
import { fail } from '../errors.ts';
import { VERSION } from '../version.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';

/** The options of {@link slice}. */
export interface SliceOptions extends RunOptions {
  /** the family's directory (new, or a family to replace) */
  output: string;
  /** also the family as one ONNX file with its dispatcher */
  onnx?: string;
  /** the input domain (default: the model file's own) */
  domain?: Box | Box[];
  /** adaptive (default: cut where it stabilises neurons) or uniform (every input halved `levels` times) */
  strategy?: 'uniform' | 'adaptive';
  levels?: number;
  /** adaptive: at most this many slices */
  maxSlices?: number;
  /** what each slice keeps (default exact) */
  tolerance?: Tolerance;
  /** the time limit of one query in milliseconds (default 10,000) */
  timeoutMs?: number;
  /** worker threads (default 1); the family does not depend on it */
  workers?: number;
  /** false: slice and prove without writing (default true) */
  write?: boolean;
}

/** What {@link slice} gives back: the slices' boxes, networks and certificates, the manifest, the family check. */
export interface Sliced {
  manifest: FamilyManifest;
  slices: Array<{ box: Box; network: Network; certificate: Certificate; fallback?: string }>;
  familyCheck: SliceRun['familyCheck'];
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
  if (write) {
    checkOutputs([{ path: out, what: '-o', kind: 'dir' }, ...(options.onnx ? [{ path: options.onnx, what: '--onnx', kind: 'file' as const }] : [])], model.path === '<default>' ? [] : [{ path: model.path, what: 'MODEL' }]);
    checkFamilyTarget(out);
  }
  const strategy = options.strategy ?? 'adaptive';
  const tolerance = options.tolerance ?? { kind: 'exact' as const };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const report = reporter(options);
  await loadMilpSolver();
  const run = await sliceNetwork(f, domain, {
    strategy,
    ...(options.levels !== undefined ? { levels: options.levels } : {}),
    ...(options.maxSlices !== undefined ? { maxSlices: options.maxSlices } : {}),
    tolerance,
    boundsFn: crownBounds,
    bounds: 'crown',
    ...sliceLimits(timeoutMs),
    workers: Math.max(1, Math.floor(options.workers ?? 1)),
    onProgress: (done, total, mean) => report({ stage: 'slicing', done, total, detail: `mean ReLUs ${mean.toFixed(1)}` }),
  });
  await checkpoint(options.signal);
  const fam = buildFamily(f, model.path, model.view, run, tolerance, strategy, out, VERSION);
  if (write) writeFamily(out, fam.manifest, fam.files, options.onnx ? [{ path: options.onnx, data: familyOnnx(run) }] : []);
  return {
    manifest: fam.manifest,
    slices: run.slices.map((s, i) => ({ box: run.partition.boxes[i], network: s.written, certificate: fam.certificates[i], ...(s.fallback ? { fallback: s.fallback } : {}) })),
    familyCheck: run.familyCheck,
    timeMs: run.timeMs,
  };
}
