/**
 * `prune` on a graph network (a CNN's ONNX): the exact channel prune (src/simplify/graph/), written as a graph of
 * the same kind (Conv stays Conv, the source's names, batch dimension, opset and precision), read back, and proved
 * about the file as written (check.ts) before anything is written; the certificate is what `check` re-proves.
 */
import { fail } from '../errors.ts';
import { ExitError, EXIT, fmt, nBoxes, numberOpt, intOpt, printJson, resolveGraphDomain } from './common.ts';
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import { readInputFile } from '../formats/read-text.ts';
import { encodeGraphOnnx } from '../formats/onnx-graph/write.ts';
import { parseOnnxGraph } from '../formats/onnx-graph/read.ts';
import type { Graph } from '../model/graph/types.ts';
import { pruneGraphChannels } from '../simplify/graph/prune.ts';
import { checkGraphPrune, type GraphCheckResult } from '../simplify/graph/check.ts';
import { buildGraphCertificate } from '../simplify/graph/certificate.ts';
import { channelCount } from '../simplify/graph/dead.ts';
import { pathForCertificate } from '../simplify/certificate.ts';
import { makeProgress } from './progress.ts';
import { VERSION } from './version.ts';

/** Options of prune that graphs do not take yet, with why. */
const NOT_ON_GRAPHS: Record<string, string> = {
  epsilon: 'a tolerance',
  'preserve-class': 'class-preserving pruning',
  margin: 'class-preserving pruning',
  'max-boxes': 'a box limit (the census has one time limit, --timeout S)',
  view: 'a view (graph files have no normalisation)',
  jobs: 'worker threads (the census runs in one thread)',
};

/** sampled points of the domain where the pruned file is compared with the original, bit for bit */
export const GRAPH_CHECK_SAMPLES = 1000;

function refuseOptions(values: Record<string, unknown>, path: string): void {
  for (const [k, what] of Object.entries(NOT_ON_GRAPHS)) {
    if (values[k] !== undefined) fail(`prune: --${k}: ${what} is not available on graph networks yet (${path}); graphs are pruned exactly`);
  }
}

function precisionOf(values: Record<string, unknown>, f: Graph): 'float32' | 'float64' {
  const p = (values.precision as string | undefined) ?? f.precision ?? 'float32';
  if (p !== 'float32' && p !== 'float64') fail(`--precision: '${p}' (expected float32 or float64)`);
  return p;
}

export async function pruneGraph(f: Graph, path: string, values: Record<string, unknown>): Promise<number> {
  const t0 = Date.now();
  refuseOptions(values, path);
  const domain = resolveGraphDomain(f, path, values);
  const out = values.output;
  if (typeof out !== 'string') fail('prune: missing -o OUT.onnx');
  if (!out.toLowerCase().endsWith('.onnx')) fail(`prune: -o ${out}: a graph network is written as ONNX (.onnx)`);
  const precision = precisionOf(values, f);
  const timeoutMs = numberOpt(values, 'timeout', 30, 0.1) * 1000;
  const seed = intOpt(values, 'seed', 1, 0);
  const certPath = typeof values.certificate === 'string' ? values.certificate : `${out}.certificate.json`;
  checkOutputs(
    [{ path: out, what: '-o', kind: 'file' }, { path: certPath, what: '--certificate', kind: 'file' }],
    [{ path, what: 'MODEL' }, ...(typeof values.vnnlib === 'string' ? [{ path: values.vnnlib, what: '--vnnlib' }] : [])],
  );
  const progress = makeProgress(values.json !== true);
  let r;
  let check: GraphCheckResult;
  let bytes: Uint8Array;
  let written: Graph;
  try {
    r = pruneGraphChannels(f, domain, { timeoutMs, seed, onProgress: (phase, done, total, leftMs) => progress.update(`phase census (${phase})`, done, total, '', leftMs / 1000) });
    const opset = f.opset ?? 17;
    bytes = encodeGraphOnnx(r.pruned, { precision, opset });
    written = parseOnnxGraph(bytes, out);
    check = checkGraphPrune(f, written, r.removed, domain, { timeoutMs, samples: GRAPH_CHECK_SAMPLES, seed, onProgress: (s, d, t) => progress.update(s, d, t) }, new Set(r.dead.keys()));
  } finally {
    progress.done();
  }
  if (check.verdict.status !== 'proved') {
    const code = check.verdict.status === 'refuted' ? EXIT.refuted : EXIT.unknown;
    throw new ExitError(`prune: the final check did not prove the pruned network (${check.verdict.reason ?? check.verdict.status}); nothing written`, code);
  }
  const cert = buildGraphCertificate({
    version: VERSION,
    input: { path: pathForCertificate(certPath, path), bytes: new Uint8Array(readInputFile(path)), graph: f },
    output: { path: pathForCertificate(certPath, out), bytes, graph: written, precision, opset: f.opset ?? 17 },
    domain,
    removed: r.removed,
    dead: r.dead,
    census: r.census,
    finalCheck: check,
    totalTimeMs: Date.now() - t0,
  });
  writeFilesAtomic([{ path: out, data: bytes }, { path: certPath, data: JSON.stringify(cert, null, 1) + '\n' }]);
  const s = r.summary;
  if (values.json) {
    printJson({ output: out, certificate: certPath, census: cert.census, removed: channelCount(r.removed), channels: s.nodes, parameters: { before: s.parametersBefore, after: s.parametersAfter }, finalCheck: check, timeMs: cert.totalTimeMs });
    return EXIT.ok;
  }
  const changed = s.nodes.filter((n) => n.after !== n.before);
  const cc = r.census.channelTotals;
  const lines = [
    `nnshrink prune: ${path} -> ${out} (graph: channels proved zero on the domain removed)`,
    `  domain: ${nBoxes(domain.length)}; tolerance: exact`,
    `  phase census: channels ${cc.never} never active, ${cc.always} always active, ${cc.both} both, ${cc.unknown} unknown [${(r.census.timeMs / 1000).toFixed(1)} s${r.census.reason ? `; ${r.census.reason}` : ''}]`,
    `  removed: ${channelCount(r.removed)} channels of ${r.removed.size} tensors; ${changed.length ? changed.map((n) => `${n.node} ${n.before} -> ${n.after}`).join(', ') : 'no node smaller'}`,
    `  parameters ${s.parametersBefore} -> ${s.parametersAfter} (${((100 * (s.parametersBefore - s.parametersAfter)) / Math.max(1, s.parametersBefore)).toFixed(1)}% fewer)`,
    `  final check (${check.verdict.method}, ${(check.verdict.timeMs / 1000).toFixed(1)} s): PROVED ${check.claim}`,
    `  sampling: ${check.sampling.points} points, largest |f-g| ${fmt(check.sampling.maxAbsDiff)}`,
    `  certificate: ${certPath}   (re-check: nnshrink check ${certPath})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
