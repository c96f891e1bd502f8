/**
 * A slicing run as the files of its family: the manifest (source, tolerance, split tree, slices) and per slice its
 * network (JSON) and certificate, and the single-file ONNX with its dispatcher. What `nnshrink slice` writes and the
 * library's slice returns (src/api/slice.ts); the writing itself is writeFamily's, as one set.
 */
import { join } from 'node:path';
import { jsonNetworkText } from '../formats/json.ts';
import { networkHash } from '../model/hash.ts';
import { boxToJSON } from '../model/box.ts';
import { sizeMetrics, type Network } from '../model/network.ts';
import { BOUND_WIDENING_TEXT } from '../bounds/round.ts';
import { buildCertificate, pathForCertificate, type Certificate } from '../simplify/certificate.ts';
import { editsToJSON } from '../simplify/edits.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { sliceDomain, type SliceRun } from './slicer.ts';
import { FAMILY_FORMAT, type FamilyManifest, type SliceFiles } from './family.ts';
import { familyOnnxBytes } from './family-onnx.ts';

export interface FamilyBuild {
  manifest: FamilyManifest;
  files: SliceFiles[];
  certificates: Certificate[];
}

/** The manifest and the slices' files of a run; `dir` is where the family goes, `modelPath` the source's path. */
export function buildFamily(f: Network, modelPath: string, view: 'raw' | 'normalized' | undefined, run: SliceRun, tolerance: Tolerance, strategy: 'uniform' | 'adaptive', dir: string, version: string): FamilyBuild {
  const before = sizeMetrics(f);
  const manifest: FamilyManifest = {
    format: FAMILY_FORMAT,
    version: 1,
    source: { path: modelPath, sha256: networkHash(f), sizes: before },
    tolerance,
    strategy,
    root: boxToJSON(run.partition.root),
    ...(run.partition.regions ? { regions: run.partition.regions.map(boxToJSON) } : {}),
    tree: run.partition.tree,
    slices: [],
    check: { ...run.familyCheck, perSlice: 'each slice certificate holds a proved end-to-end bound against the original on its box (with several domain boxes: on the parts of them it holds)' },
  };
  const certificates: Certificate[] = [];
  const files = run.slices.map((s, i) => {
    const name = `slice-${String(i).padStart(5, '0')}`;
    const certPath = join(dir, `${name}.certificate.json`);
    const proved = sliceDomain(run.partition, i);
    const cert = buildCertificate({
      inputPath: pathForCertificate(certPath, modelPath),
      inputView: view,
      original: f,
      outputPath: `${name}.json`,
      written: s.written,
      precision: 'float64',
      domain: proved,
      tolerance: s.tolerance,
      exactTolerance: s.exactEps,
      boundWidening: BOUND_WIDENING_TEXT,
      census: s.result.census,
      steps: s.result.steps,
      edits: editsToJSON(s.result.edits),
      groups: s.result.groups,
      basisReduced: s.result.basisReduced,
      finalCheck: s.check,
      before,
      after: s.result.after,
      totalTimeMs: s.timeMs,
      version,
      fallback: s.fallback,
    });
    certificates.push(cert);
    manifest.slices.push({
      box: boxToJSON(run.partition.boxes[i]),
      network: `${name}.json`,
      certificate: `${name}.certificate.json`,
      sizes: s.result.after,
      ...(s.fallback ? { fallback: s.fallback } : {}),
    });
    // the network file states the domain it was proved on when that is one box (the certificate lists the parts)
    return { networkText: jsonNetworkText(s.written, proved.length === 1 ? { domain: proved[0] } : {}), certificateText: JSON.stringify(cert) + '\n' };
  });
  return { manifest, files, certificates };
}

/** The per-slice limits the command and the library both derive from one query time limit. */
export function sliceLimits(queryTimeoutMs: number): { queryTimeoutMs: number; toleranceBudgetMs: number; finalTimeoutMs: number; finalSamples: number } {
  return { queryTimeoutMs, toleranceBudgetMs: queryTimeoutMs * 5, finalTimeoutMs: queryTimeoutMs * 4, finalSamples: 5000 };
}

/** The family as one ONNX file: every slice and the dispatcher that picks one per input. */
export function familyOnnx(run: SliceRun): Uint8Array {
  return familyOnnxBytes(run.partition, run.slices.map((s) => s.written), 'float64');
}
