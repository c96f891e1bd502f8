/**
 * `prune` on a graph network (a CNN's ONNX): the options read, the library's graph prune (src/api/prune-graph.ts)
 * called, the result printed and written (with --report, one HTML page of channels per node by reason) as one set.
 */
import { fail } from '../errors.ts';
import { finalCheckExit, fmt, nBoxes, numberOpt, intOpt, precisionOpt, printJson, resolveGraphDomain, EXIT } from './common.ts';
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import type { Graph } from '../model/graph/types.ts';
import { describeTolerance } from '../verify/tolerance.ts';
import { toleranceFrom } from './tolerance-args.ts';
import { channelCount, partlyDeadChannels } from '../simplify/graph/dead.ts';
import { makeProgress } from './progress.ts';
import { VERSION } from '../version.ts';
import { pruneGraphRun, type GraphSearchReport } from '../api/prune-graph.ts';
import { graphPruneNodes, graphPruneReport } from '../report/graph-prune.ts';

/** Options of prune that graphs do not take yet, with why. */
const NOT_ON_GRAPHS: Record<string, string> = {
  'max-boxes': 'a box limit (the census has one time limit, --timeout S)',
  view: 'a view (graph files have no normalisation)',
  jobs: 'worker threads (the census runs in one thread)',
};

function refuseOptions(values: Record<string, unknown>, path: string): void {
  for (const [k, what] of Object.entries(NOT_ON_GRAPHS)) {
    if (values[k] !== undefined) fail(`prune: --${k}: ${what} is not available on graph networks yet (${path}); graphs are pruned exactly, with --epsilon E or with --preserve-class`);
  }
}

/** The search's report line (class or epsilon). */
function searchLine(s: GraphSearchReport): string {
  const tried = `${s.attempts} proof attempts (${s.proved} proved, ${s.refuted} refuted, ${s.unknown} open), ended: ${s.ended}${s.reason ? ` (${s.reason})` : ''}`;
  if ('winner' in s) return `  class search: f's winner ${s.winner >= 0 ? `output ${s.winner} (proved)` : 'not proved'}; ${s.accepted} of ${s.candidates} live channels removed, ${tried}`;
  return `  epsilon search: ${s.accepted} of ${s.candidates} live channels removed, max |f - g| <= ${fmt(s.bound)} proved; ${tried}`;
}

export async function pruneGraph(model: { graph: Graph; path: string; bytes: Uint8Array }, values: Record<string, unknown>): Promise<number> {
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
  const reportPath = typeof values.report === 'string' ? values.report : undefined;
  checkOutputs(
    [{ path: out, what: '-o', kind: 'file' }, { path: certPath, what: '--certificate', kind: 'file' }, ...(reportPath ? [{ path: reportPath, what: '--report', kind: 'file' as const }] : [])],
    [{ path, what: 'MODEL' }, ...(typeof values.vnnlib === 'string' ? [{ path: values.vnnlib, what: '--vnnlib' }] : [])],
  );
  const progress = makeProgress(values.json !== true);
  const tolerance = toleranceFrom(values);
  let run;
  try {
    run = await pruneGraphRun(model, {
      domain,
      tolerance,
      output: out,
      certificate: certPath,
      precision,
      timeoutMs,
      seed,
      onWarning: (w) => !values.json && process.stderr.write(`nnshrink: warning: ${w}\n`),
      onProgress: (p) => progress.update(p.stage, p.done, p.total, '', p.leftMs === undefined ? undefined : p.leftMs / 1000),
    }).catch(finalCheckExit);
  } finally {
    progress.done();
  }
  const { run: r, certificate: cert, summary } = run;
  const check = r.check;
  if (r.note && !values.json) process.stderr.write(`nnshrink: note: ${r.note}\n`);
  const report = reportPath
    ? [{ path: reportPath, data: graphPruneReport({ model: path, output: out, certificatePath: certPath, cert, nodes: graphPruneNodes(f, r.summary, r.removed, r.kills), partlyStable: partlyDeadChannels(r.census), ...(r.search && 'winner' in r.search ? { search: r.search } : {}), version: VERSION }) }]
    : [];
  writeFilesAtomic([...run.files, ...report]);
  const s = r.summary;
  if (values.json) {
    const { kind: _kind, ...fields } = summary;
    printJson({ output: out, certificate: certPath, ...fields });
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
