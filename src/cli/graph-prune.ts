/**
 * `prune` on a graph network (a CNN's ONNX): the exact channel prune, or with --preserve-class or --epsilon E the
 * tolerance search's live channels too (src/simplify/graph/), written as a graph of the same kind (Conv stays Conv, the source's names, batch dimension, opset and precision), read back, and proved
 * about the file as written (check.ts) before anything is written; the certificate is what `check` re-proves.
 */
import { fail } from '../errors.ts';
import { ExitError, EXIT, fmt, nBoxes, numberOpt, intOpt, precisionOpt, printJson, resolveGraphDomain } from './common.ts';
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import { encodeGraphOnnx } from '../formats/onnx-graph/write.ts';
import { parseOnnxGraph } from '../formats/onnx-graph/read.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import type { GraphCensus } from '../verify/graph/census.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { describeTolerance } from '../verify/tolerance.ts';
import { pruneGraphChannels, type GraphPruneResult } from '../simplify/graph/prune.ts';
import { pruneGraphClass, type ClassPruneStats } from '../simplify/graph/class-prune.ts';
import { checkGraphPrune } from '../simplify/graph/check.ts';
import { checkGraphClassPrune } from '../simplify/graph/class-check.ts';
import { pruneGraphEps, type EpsPruneStats } from '../simplify/graph/eps-prune.ts';
import { checkGraphEpsPrune } from '../simplify/graph/eps-check.ts';
import { graphVacuity } from '../simplify/graph/eps-vacuity.ts';
import type { ChannelSets, ChannelSummary } from '../simplify/graph/channels.ts';
import { buildGraphCertificate, type GraphFinalCheck, type GraphTolerance } from '../simplify/graph/certificate.ts';
import { toleranceFrom } from './tolerance-args.ts';
import type { Progress } from './progress.ts';
import { channelCount, partlyDeadChannels } from '../simplify/graph/dead.ts';
import { pathForCertificate } from '../simplify/certificate.ts';
import { makeProgress } from './progress.ts';
import { VERSION } from './version.ts';

/** Options of prune that graphs do not take yet, with why. */
const NOT_ON_GRAPHS: Record<string, string> = {
  'max-boxes': 'a box limit (the census has one time limit, --timeout S)',
  view: 'a view (graph files have no normalisation)',
  jobs: 'worker threads (the census runs in one thread)',
};

/** sampled points of the domain where the pruned file is compared with the original, bit for bit */
export const GRAPH_CHECK_SAMPLES = 1000;

function refuseOptions(values: Record<string, unknown>, path: string): void {
  for (const [k, what] of Object.entries(NOT_ON_GRAPHS)) {
    if (values[k] !== undefined) fail(`prune: --${k}: ${what} is not available on graph networks yet (${path}); graphs are pruned exactly, with --epsilon E or with --preserve-class`);
  }
}

type Check = GraphFinalCheck;
type SearchReport = (ClassPruneStats & { winner: number; reason?: string }) | (EpsPruneStats & { bound: number; reason?: string });

/** What either mode gives the writer and the certificate. */
interface GraphRun {
  tolerance: GraphTolerance;
  census: GraphCensus;
  dead: Map<string, number[]>;
  /** class and linf modes: the ReLU channels forced to zero before the exact removal */
  kills?: Map<string, number[]>;
  removed: ChannelSets;
  summary: ChannelSummary;
  search?: SearchReport;
  bytes: Uint8Array;
  written: Graph;
  check: Check;
  /** said on stderr (in --json: a field) */
  note?: string;
}

interface RunOptions {
  precision: 'float32' | 'float64';
  timeoutMs: number;
  seed: number;
  progress: Progress;
  onProgress: (phase: string, done: number, total: number, leftMs: number) => void;
}

/** The pruned graph as the file will hold it: its bytes, and the graph read back from them. */
function encoded(g: Graph, f: Graph, out: string, precision: 'float32' | 'float64'): { bytes: Uint8Array; written: Graph } {
  const bytes = encodeGraphOnnx(g, { precision, opset: f.opset ?? 17 });
  return { bytes, written: parseOnnxGraph(bytes, out) };
}

function exactRun(f: Graph, domain: Box[], out: string, o: RunOptions): GraphRun {
  const r = pruneGraphChannels(f, domain, { timeoutMs: o.timeoutMs, seed: o.seed, onProgress: (p, d, t, l) => o.onProgress(`phase census (${p})`, d, t, l) });
  return exactFromCensus(f, r, domain, out, o);
}

/** The exact prune written, read back and proved (check.ts). */
function exactFromCensus(f: Graph, r: GraphPruneResult, domain: Box[], out: string, o: RunOptions): GraphRun {
  const { bytes, written } = encoded(r.pruned, f, out, o.precision);
  const check = checkGraphPrune(f, written, r.removed, domain, { timeoutMs: o.timeoutMs, samples: GRAPH_CHECK_SAMPLES, seed: o.seed, onProgress: (s, d, t) => o.progress.update(s, d, t) }, new Set(r.dead.keys()));
  return { tolerance: { kind: 'exact' }, census: r.census, dead: r.dead, removed: r.removed, summary: r.summary, bytes, written, check };
}

async function classRun(f: Graph, domain: Box[], t: { order: 'argmax' | 'argmin'; margin: number }, out: string, o: RunOptions): Promise<GraphRun> {
  await loadMilpSolver();
  // the search gets the time limit ten times over, as the chain's tolerance search does
  const r = pruneGraphClass(f, domain, { order: t.order, margin: t.margin, timeoutMs: o.timeoutMs * 10, censusTimeoutMs: o.timeoutMs, seed: o.seed, onProgress: o.onProgress });
  const search = { ...r.stats, winner: r.winner, ...(r.reason ? { reason: r.reason } : {}) };
  if (channelCount(r.kills) === 0) {
    // no live channel could go (f's class not proved constant, or no group proved): the exact prune keeps every
    // output, so every class; its claim is the stronger one and the one proved
    const exact = exactFromCensus(f, r.exact, domain, out, o);
    return { ...exact, search, note: `no live channel removed (${r.reason ?? `search ended: ${r.stats.ended}`}): the exact prune is written, which keeps every output` };
  }
  const { bytes, written } = encoded(r.pruned, f, out, o.precision);
  // the proof of f's winner may need what the search had for it: the same time again
  const check = checkGraphClassPrune(f, written, domain, t.order, t.margin, { timeoutMs: o.timeoutMs * 10, samples: GRAPH_CHECK_SAMPLES, seed: o.seed, onProgress: (s, d, tt) => o.progress.update(s, d, tt) });
  return { tolerance: { kind: 'class', order: t.order, margin: t.margin }, census: r.exact.census, dead: r.exact.dead, kills: r.kills, removed: r.removed, summary: r.summary, search, bytes, written, check };
}

async function epsRun(f: Graph, domain: Box[], epsilon: number, out: string, o: RunOptions): Promise<GraphRun> {
  // the final check may use MILP, as check does (the search does not: its answers must not depend on the pace)
  await loadMilpSolver();
  // the search gets the time limit ten times over, as in class mode
  const r = pruneGraphEps(f, domain, { epsilon, timeoutMs: o.timeoutMs * 10, censusTimeoutMs: o.timeoutMs, seed: o.seed, onProgress: o.onProgress });
  const search = { ...r.stats, bound: r.bound, ...(r.reason ? { reason: r.reason } : {}) };
  if (r.stats.accepted === 0) {
    // no live channel could go: the exact prune's claim is the stronger one
    const exact = exactFromCensus(f, r.exact, domain, out, o);
    return { ...exact, search, note: `no live channel removed (${r.reason ?? `search ended: ${r.stats.ended}`}): the exact prune is written, which keeps every output` };
  }
  const { bytes, written } = encoded(r.pruned, f, out, o.precision);
  const check = checkGraphEpsPrune(f, written, r.kills, r.removed, domain, epsilon, { timeoutMs: o.timeoutMs * 10, samples: GRAPH_CHECK_SAMPLES, seed: o.seed, onProgress: (s, d, t) => o.progress.update(s, d, t) }, new Set(r.facts.keys()));
  return { tolerance: { kind: 'linf', epsilon }, census: r.exact.census, dead: r.facts, kills: r.kills, removed: r.removed, summary: r.summary, search, bytes, written, check };
}

/** The search's report line (class or epsilon). */
function searchLine(s: SearchReport): string {
  const tried = `${s.attempts} proof attempts (${s.proved} proved, ${s.refuted} refuted, ${s.unknown} open), ended: ${s.ended}${s.reason ? ` (${s.reason})` : ''}`;
  if ('winner' in s) return `  class search: f's winner ${s.winner >= 0 ? `output ${s.winner} (proved)` : 'not proved'}; ${s.accepted} of ${s.candidates} live channels removed, ${tried}`;
  return `  epsilon search: ${s.accepted} of ${s.candidates} live channels removed, max |f - g| <= ${fmt(s.bound)} proved; ${tried}`;
}

export async function pruneGraph(model: { graph: Graph; path: string; bytes: Uint8Array }, values: Record<string, unknown>): Promise<number> {
  const t0 = Date.now();
  const { graph: f, path } = model;
  refuseOptions(values, path);
  const domain = resolveGraphDomain(f, path, values);
  const out = values.output;
  if (typeof out !== 'string') fail('prune: missing -o OUT.onnx');
  if (!out.toLowerCase().endsWith('.onnx')) fail(`prune: -o ${out}: a graph network is written as ONNX (.onnx)`);
  const precision = precisionOpt(values, f.precision ?? 'float32');
  const timeoutMs = numberOpt(values, 'timeout', 30, 0.1) * 1000;
  const seed = intOpt(values, 'seed', 1, 0);
  const certPath = typeof values.certificate === 'string' ? values.certificate : `${out}.certificate.json`;
  checkOutputs(
    [{ path: out, what: '-o', kind: 'file' }, { path: certPath, what: '--certificate', kind: 'file' }],
    [{ path, what: 'MODEL' }, ...(typeof values.vnnlib === 'string' ? [{ path: values.vnnlib, what: '--vnnlib' }] : [])],
  );
  const progress = makeProgress(values.json !== true);
  const tolerance = toleranceFrom(values);
  const onProgress = (phase: string, done: number, total: number, leftMs: number): void => progress.update(phase, done, total, '', leftMs / 1000);
  // a tolerance wider than the outputs' whole range allows any network: said before the work
  const vacuous = tolerance.kind === 'linf' ? graphVacuity(f, domain, tolerance.epsilon) : null;
  if (vacuous && !values.json) process.stderr.write(`nnshrink: warning: the claim would be vacuous: ${vacuous}\n`);
  let r: GraphRun;
  const o = { precision, timeoutMs, seed, progress, onProgress };
  try {
    r = tolerance.kind === 'class' ? await classRun(f, domain, tolerance, out, o) : tolerance.kind === 'linf' ? await epsRun(f, domain, tolerance.epsilon, out, o) : exactRun(f, domain, out, o);
  } finally {
    progress.done();
  }
  const { check, bytes, written } = r;
  if (r.note && !values.json) process.stderr.write(`nnshrink: note: ${r.note}\n`);
  if (check.verdict.status !== 'proved') {
    const code = check.verdict.status === 'refuted' ? EXIT.refuted : EXIT.unknown;
    throw new ExitError(`prune: the final check did not prove the pruned network (${check.verdict.reason ?? check.verdict.status}); nothing written`, code);
  }
  const cert = buildGraphCertificate({
    version: VERSION,
    input: { path: pathForCertificate(certPath, path), bytes: model.bytes, graph: f },
    output: { path: pathForCertificate(certPath, out), bytes, graph: written, precision, opset: written.opset! },
    domain,
    removed: r.removed,
    dead: r.dead,
    census: r.census,
    tolerance: r.tolerance,
    ...(r.kills ? { kills: r.kills } : {}),
    finalCheck: check,
    totalTimeMs: Date.now() - t0,
  });
  writeFilesAtomic([{ path: out, data: bytes }, { path: certPath, data: JSON.stringify(cert, null, 1) + '\n' }]);
  const s = r.summary;
  if (values.json) {
    printJson({ output: out, certificate: certPath, tolerance: r.tolerance, ...(vacuous && r.tolerance.kind === 'linf' ? { vacuous } : {}), ...(r.note ? { note: r.note } : {}), census: { ...cert.census, partlyStableChannels: partlyDeadChannels(r.census) }, removed: channelCount(r.removed), ...(r.search ? { killed: channelCount(r.kills ?? new Map()), search: r.search } : {}), channels: s.nodes, parameters: { before: s.parametersBefore, after: s.parametersAfter }, finalCheck: check, timeMs: cert.totalTimeMs });
    return EXIT.ok;
  }
  const changed = s.nodes.filter((n) => n.after !== n.before);
  const cc = r.census.channelTotals;
  const lines = [
    `nnshrink prune: ${path} -> ${out} (graph: channels ${r.tolerance.kind === 'class' ? 'whose removal provably keeps the class, and those ' : r.tolerance.kind === 'linf' ? 'forced to zero within the tolerance, and those ' : ''}proved zero on the domain removed)`,
    `  domain: ${nBoxes(domain.length)}; tolerance: ${describeTolerance(r.tolerance)}`,
    `  phase census: channels ${cc.never} never active, ${cc.always} always active, ${cc.both} both, ${cc.unknown} unknown; ${partlyDeadChannels(r.census)} partly stable (never active at some positions: kept) [${(r.census.timeMs / 1000).toFixed(1)} s${r.census.reason ? `; ${r.census.reason}` : ''}]`,
    ...(r.search ? [searchLine(r.search)] : []),
    `  removed: ${channelCount(r.removed)} channels of ${r.removed.size} tensors; ${changed.length ? changed.map((n) => `${n.node} ${n.before} -> ${n.after}`).join(', ') : 'no node smaller'}`,
    `  parameters ${s.parametersBefore} -> ${s.parametersAfter} (${((100 * (s.parametersBefore - s.parametersAfter)) / Math.max(1, s.parametersBefore)).toFixed(1)}% fewer)`,
    `  final check (${check.verdict.method}, ${(check.verdict.timeMs / 1000).toFixed(1)} s): PROVED ${check.claim}`,
    `  sampling: ${check.sampling.points} points, ${'maxAbsDiff' in check.sampling ? `largest |f-g| ${fmt(check.sampling.maxAbsDiff)}` : `smallest lead of the winner in g ${fmt(check.sampling.minLeadG)}`}`,
    `  certificate: ${certPath}   (re-check: nnshrink check ${certPath})`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
