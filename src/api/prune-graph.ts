/**
 * prune of a graph network (a CNN's ONNX): the exact channel prune, or with a class or epsilon tolerance the
 * search's live channels too (src/simplify/graph/), encoded as a graph of the same kind (Conv stays Conv, the
 * source's names, batch dimension, opset and precision), read back, and proved about the file as it will be
 * written before anything is; the certificate is what `check` re-proves.
 */
import { encodeGraphOnnx } from '../formats/onnx-graph/write.ts';
import { parseOnnxGraph } from '../formats/onnx-graph/read.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import type { GraphCensus } from '../verify/graph/census.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { pruneGraphChannels, type GraphPruneResult } from '../simplify/graph/prune.ts';
import { pruneGraphClass, type ClassPruneStats } from '../simplify/graph/class-prune.ts';
import { checkGraphPrune } from '../simplify/graph/check.ts';
import { checkGraphClassPrune } from '../simplify/graph/class-check.ts';
import { pruneGraphEps, type EpsPruneStats } from '../simplify/graph/eps-prune.ts';
import { checkGraphEpsPrune } from '../simplify/graph/eps-check.ts';
import { graphVacuity } from '../simplify/graph/eps-vacuity.ts';
import type { ChannelSets, ChannelSummary } from '../simplify/graph/channels.ts';
import { buildGraphCertificate, type GraphCertificate, type GraphFinalCheck, type GraphTolerance } from '../simplify/graph/certificate.ts';
import { channelCount, partlyDeadChannels } from '../simplify/graph/dead.ts';
import { pathForCertificate } from '../simplify/certificate.ts';
import { NnsError, fail } from '../errors.ts';
import { VERSION } from '../version.ts';
import { checkpoint, reporter, type Progress, type RunOptions } from './run.ts';

/** sampled points of the domain where the pruned file is compared with the original, bit for bit */
export const GRAPH_CHECK_SAMPLES = 1000;

/** What a graph prune's tolerance search did: the class search's figures (with f's proved winner) or the epsilon search's (with the bound proved). */
export type GraphSearchReport = (ClassPruneStats & { winner: number; reason?: string }) | (EpsPruneStats & { bound: number; reason?: string });

/** What a graph prune is asked (the library's prune options, resolved). */
export interface GraphPruneAsk extends RunOptions {
  domain: Box[];
  tolerance: GraphTolerance;
  output: string;
  certificate: string;
  precision?: 'float32' | 'float64';
  timeoutMs: number;
  seed: number;
  onWarning?: (message: string) => void;
}

/** What either mode gives the writer and the certificate. */
export interface GraphRun {
  tolerance: GraphTolerance;
  census: GraphCensus;
  dead: Map<string, number[]>;
  /** class and linf modes: the ReLU channels forced to zero before the exact removal */
  kills?: Map<string, number[]>;
  removed: ChannelSets;
  summary: ChannelSummary;
  search?: GraphSearchReport;
  bytes: Uint8Array;
  written: Graph;
  check: GraphFinalCheck;
  /** why the exact prune was written in a tolerance mode */
  note?: string;
}

/** What a graph prune proved and wrote, as `prune --json` prints it (beside the output's and certificate's paths). */
export interface GraphPruneSummary {
  kind: 'graph';
  tolerance: GraphTolerance;
  vacuous?: string;
  note?: string;
  census: GraphCertificate['census'] & { partlyStableChannels: number };
  /** channels removed */
  removed: number;
  /** channels forced to zero by the search (tolerance modes) */
  killed?: number;
  search?: GraphSearchReport;
  /** per conv / dense node: channels before and after */
  channels: ChannelSummary['nodes'];
  parameters: { before: number; after: number };
  finalCheck: GraphFinalCheck;
  timeMs: number;
}

export interface GraphPruneRun {
  graph: Graph;
  certificate: GraphCertificate;
  summary: GraphPruneSummary;
  files: Array<{ path: string; data: Uint8Array | string }>;
  run: GraphRun;
}

interface Ctx {
  f: Graph;
  domain: Box[];
  out: string;
  precision: 'float32' | 'float64';
  timeoutMs: number;
  seed: number;
  report: (p: Progress) => void;
}

const searchProgress = (c: Ctx) => (stage: string, done: number, total: number, leftMs: number): void => c.report({ stage, done, total, leftMs });
const checkProgress = (c: Ctx) => (stage: string, done: number, total: number): void => c.report({ stage, done, total });

/** The pruned graph as the file will hold it: its bytes, and the graph read back from them. */
function encoded(g: Graph, c: Ctx): { bytes: Uint8Array; written: Graph } {
  const bytes = encodeGraphOnnx(g, { precision: c.precision, opset: c.f.opset ?? 17 });
  return { bytes, written: parseOnnxGraph(bytes, c.out) };
}

function exactRun(c: Ctx): GraphRun {
  const r = pruneGraphChannels(c.f, c.domain, { timeoutMs: c.timeoutMs, seed: c.seed, onProgress: (p, d, t, l) => searchProgress(c)(`phase census (${p})`, d, t, l) });
  return exactFromCensus(r, c);
}

/** The exact prune written, read back and proved (check.ts). */
function exactFromCensus(r: GraphPruneResult, c: Ctx): GraphRun {
  const { bytes, written } = encoded(r.pruned, c);
  const check = checkGraphPrune(c.f, written, r.removed, c.domain, { timeoutMs: c.timeoutMs, samples: GRAPH_CHECK_SAMPLES, seed: c.seed, onProgress: checkProgress(c) }, new Set(r.dead.keys()));
  return { tolerance: { kind: 'exact' }, census: r.census, dead: r.dead, removed: r.removed, summary: r.summary, bytes, written, check };
}

const exactNote = (reason: string | undefined, ended: string): string => `no live channel removed (${reason ?? `search ended: ${ended}`}): the exact prune is written, which keeps every output`;

function classRun(c: Ctx, t: { order: 'argmax' | 'argmin'; margin: number }): GraphRun {
  // the search gets the time limit ten times over, as the chain's tolerance search does
  const r = pruneGraphClass(c.f, c.domain, { order: t.order, margin: t.margin, timeoutMs: c.timeoutMs * 10, censusTimeoutMs: c.timeoutMs, seed: c.seed, onProgress: searchProgress(c) });
  const search = { ...r.stats, winner: r.winner, ...(r.reason ? { reason: r.reason } : {}) };
  // no live channel could go (f's class not proved constant, or no group proved): the exact prune keeps every
  // output, so every class; its claim is the stronger one and the one proved
  if (channelCount(r.kills) === 0) return { ...exactFromCensus(r.exact, c), search, note: exactNote(r.reason, r.stats.ended) };
  const { bytes, written } = encoded(r.pruned, c);
  // the proof of f's winner may need what the search had for it: the same time again
  const check = checkGraphClassPrune(c.f, written, c.domain, t.order, t.margin, { timeoutMs: c.timeoutMs * 10, samples: GRAPH_CHECK_SAMPLES, seed: c.seed, onProgress: checkProgress(c) });
  return { tolerance: { kind: 'class', order: t.order, margin: t.margin }, census: r.exact.census, dead: r.exact.dead, kills: r.kills, removed: r.removed, summary: r.summary, search, bytes, written, check };
}

function epsRun(c: Ctx, epsilon: number): GraphRun {
  // the search gets the time limit ten times over, as in class mode
  const r = pruneGraphEps(c.f, c.domain, { epsilon, timeoutMs: c.timeoutMs * 10, censusTimeoutMs: c.timeoutMs, seed: c.seed, onProgress: searchProgress(c) });
  const search = { ...r.stats, bound: r.bound, ...(r.reason ? { reason: r.reason } : {}) };
  // no live channel could go: the exact prune's claim is the stronger one
  if (r.stats.accepted === 0) return { ...exactFromCensus(r.exact, c), search, note: exactNote(r.reason, r.stats.ended) };
  const { bytes, written } = encoded(r.pruned, c);
  const check = checkGraphEpsPrune(c.f, written, r.kills, r.removed, c.domain, epsilon, { timeoutMs: c.timeoutMs * 10, samples: GRAPH_CHECK_SAMPLES, seed: c.seed, onProgress: checkProgress(c) }, new Set(r.facts.keys()));
  return { tolerance: { kind: 'linf', epsilon }, census: r.exact.census, dead: r.facts, kills: r.kills, removed: r.removed, summary: r.summary, search, bytes, written, check };
}

export async function pruneGraphRun(model: { graph: Graph; path: string; bytes: Uint8Array }, a: GraphPruneAsk): Promise<GraphPruneRun> {
  const t0 = Date.now();
  const f = model.graph;
  if (!a.output.toLowerCase().endsWith('.onnx')) fail(`prune: -o ${a.output}: a graph network is written as ONNX (.onnx)`);
  const t = a.tolerance;
  // a tolerance wider than the outputs' whole range allows any network: said before the work
  const vacuous = t.kind === 'linf' ? graphVacuity(f, a.domain, t.epsilon) : null;
  if (vacuous) a.onWarning?.(`the claim would be vacuous: ${vacuous}`);
  // the tolerance modes' final checks may use MILP, as check does (the searches do not: no answer on the pace)
  await loadMilpSolver();
  await checkpoint(a.signal);
  const c: Ctx = { f, domain: a.domain, out: a.output, precision: a.precision ?? f.precision ?? 'float32', timeoutMs: a.timeoutMs, seed: a.seed, report: reporter(a) };
  const r = t.kind === 'class' ? classRun(c, t) : t.kind === 'linf' ? epsRun(c, t.epsilon) : exactRun(c);
  await checkpoint(a.signal);
  const { check, bytes, written } = r;
  if (check.verdict.status !== 'proved') {
    const code = check.verdict.status === 'refuted' ? 'refuted' : 'not-proved';
    throw new NnsError(`prune: the final check did not prove the pruned network (${check.verdict.reason ?? check.verdict.status}); nothing written`, { code });
  }
  const cert = buildGraphCertificate({
    version: VERSION,
    input: { path: pathForCertificate(a.certificate, model.path), bytes: model.bytes, graph: f },
    output: { path: pathForCertificate(a.certificate, a.output), bytes, graph: written, precision: c.precision, opset: written.opset! },
    domain: a.domain,
    removed: r.removed,
    dead: r.dead,
    census: r.census,
    tolerance: r.tolerance,
    ...(r.kills ? { kills: r.kills } : {}),
    finalCheck: check,
    totalTimeMs: Date.now() - t0,
  });
  const s = r.summary;
  const summary: GraphPruneSummary = {
    kind: 'graph',
    tolerance: r.tolerance,
    ...(vacuous && r.tolerance.kind === 'linf' ? { vacuous } : {}),
    ...(r.note ? { note: r.note } : {}),
    census: { ...cert.census, partlyStableChannels: partlyDeadChannels(r.census) },
    removed: channelCount(r.removed),
    ...(r.search ? { killed: channelCount(r.kills ?? new Map()), search: r.search } : {}),
    channels: s.nodes,
    parameters: { before: s.parametersBefore, after: s.parametersAfter },
    finalCheck: check,
    timeMs: cert.totalTimeMs,
  };
  const files = [{ path: a.output, data: bytes }, { path: a.certificate, data: JSON.stringify(cert, null, 1) + '\n' }];
  return { graph: written, certificate: cert, summary, files, run: r };
}
