/**
 * `verify --instances LIST.csv`: a VNN-COMP instance list decided side by side on the worker pool. It exits 0 when the
 * list ran, whatever the verdicts (they are in the table and the result files).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fail, NnsError } from '../errors.ts';
import { readInstances } from '../formats/instances.ts';
import { loadAnyModel, type AnyModel } from '../formats/load.ts';
import { isCounterexample, readVnnlib, vnncompResultText } from '../formats/vnnlib.ts';
import { forward } from '../model/network.ts';
import { forwardGraph } from '../model/graph/forward.ts';
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import { runPool } from '../pool/pool.ts';
import type { InstanceJob } from '../verify/property/instance.ts';
import type { PropertyResult } from '../verify/property/property.ts';
import { makeProgress } from './progress.ts';
import { numberOpt, printJson, viewOpt } from './common.ts';
import { withRunner } from './queue-run.ts';
import { checkAnyPropertyFits } from './graph-verify.ts';
import { instancesReport } from '../report/instances.ts';
import { VERSION } from '../version.ts';

const stem = (p: string): string => basename(p, extname(p));

export async function verifyInstances(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
  if (positionals.length > 0) fail(`verify: --instances takes no MODEL or PROPERTY (got '${positionals[0]}')`);
  const list = values.instances as string;
  /** the directory an option names (checked), or `fallback` when it is not given */
  const dir = <T>(name: string, fallback: T): string | T => {
    const d = values[name];
    if (typeof d !== 'string') return fallback;
    if (!existsSync(d) || !statSync(d).isDirectory()) fail(`--${name}: '${d}' is not a directory`);
    return d;
  };
  const rows = readInstances(list, dir('model-dir', dirname(list)), dir('property-dir', dirname(list)));
  const resultsDir = dir('results-dir', undefined);
  const view = viewOpt(values);
  // every file is read here first, so a bad row fails in one line before any search starts
  // (a chain or a graph: each worker reads its instance's model again and takes the verifier of its kind)
  const nets = new Map<string, AnyModel>();
  for (const r of rows) {
    try {
      let m = nets.get(r.model);
      if (!m) nets.set(r.model, (m = loadAnyModel(r.model, { view })));
      checkAnyPropertyFits(m, readVnnlib(r.property), r.property);
    } catch (e) {
      // the list's line first: with many instances, which row it is matters as much as which file
      if (e instanceof NnsError) fail(`${list}:${r.line}: ${e.message}`);
      throw e;
    }
  }
  const names = rows.map((r) => `${stem(r.model)}_${stem(r.property)}`);
  const reportPath = typeof values.report === 'string' ? values.report : undefined;
  const inputs = [{ path: list, what: '--instances' }, ...rows.flatMap((r) => [{ path: r.model, what: 'model' }, { path: r.property, what: 'property' }])];
  if (typeof resultsDir === 'string') checkResultFiles(resultsDir, names, rows, list, inputs, reportPath);
  else if (reportPath) checkOutputs([{ path: reportPath, what: '--report', kind: 'file' }], inputs);
  const override = values.timeout !== undefined ? numberOpt(values, 'timeout', 60, 0.01) : undefined;
  const jobs: InstanceJob[] = rows.map((r) => ({ model: r.model, property: r.property, view, timeoutMs: (override ?? r.timeoutS ?? 60) * 1000 }));
  const progress = makeProgress(!values.json);
  let done = 0;
  progress.update('instances decided', 0, jobs.length);
  let status: () => string = () => '';
  const show = (): void => progress.update('instances decided', done, jobs.length, status());
  const results = await withRunner(values, (c) => {
    status = c.status;
    return runPool<InstanceJob, PropertyResult>(new URL('../verify/property/instance.ts', import.meta.url).href, 'decideInstance', jobs, c.workers, () => {
      done++;
      show();
    });
  }, show);
  progress.done();
  if (values.redis !== undefined) results.forEach((r, i) => (results[i] = recheckCounterexample(r, nets.get(rows[i].model)!, rows[i].property)));
  // each result's file text made once: the files, and its first line the verdict of the table and the report
  const texts = results.map((r) => vnncompResultText(r));
  const verdicts = results.map((r, i) => ({ model: stem(rows[i].model), property: stem(rows[i].property), verdict: texts[i].split('\n')[0], timeMs: r.timeMs, boxes: r.boxes, ...(r.reason ? { reason: r.reason } : {}) }));
  const report = reportPath ? [{ path: reportPath, data: instancesReport({ list, rows: verdicts, version: VERSION }) }] : [];
  // one set: all result files (and the report) or none
  const resultFiles = typeof resultsDir === 'string' ? texts.map((data, i) => ({ path: join(resultsDir, `${names[i]}.txt`), data })) : [];
  if (resultFiles.length || report.length) writeFilesAtomic([...resultFiles, ...report]);
  const tally = { sat: 0, unsat: 0, unknown: 0 };
  for (const r of results) tally[r.result]++;
  if (values.json) {
    printJson(results.map((r, i) => ({ model: rows[i].model, property: rows[i].property, ...r })));
    return 0;
  }
  process.stdout.write('| model | property | verdict | time (s) |\n| --- | --- | --- | --- |\n');
  // the verdict as the result files have it (a search ended by its limit: timeout)
  verdicts.forEach((v) => process.stdout.write(`| ${v.model} | ${v.property} | ${v.verdict} | ${(v.timeMs / 1000).toFixed(2)} |\n`));
  const timeouts = results.filter((r) => r.result === 'unknown' && r.reason === 'timeout').length;
  process.stdout.write(`${rows.length} instances: ${tally.sat} sat, ${tally.unsat} unsat, ${tally.unknown} unknown${timeouts ? ` (${timeouts} timeout)` : ''}\n`);
  return 0;
}

/**
 * The result files, before any search: the directory writable, no two rows writing the same file (a second would
 * replace the first's verdict), no result file that is one of the inputs.
 */
function checkResultFiles(resultsDir: string, names: string[], rows: Array<{ model: string; property: string; line: number }>, list: string, inputs: Array<{ path: string; what: string }>, report?: string): void {
  const first = new Map<string, number>();
  names.forEach((n, i) => {
    const j = first.get(n);
    if (j !== undefined) fail(`${list}:${rows[i].line}: its result file ${n}.txt in --results-dir is also line ${rows[j].line}'s; give each instance its own model or property name`);
    first.set(n, i);
  });
  const outputs = names.map((n) => ({ path: join(resultsDir, `${n}.txt`), what: '--results-dir', kind: 'file' as const }));
  checkOutputs([...outputs, ...(report ? [{ path: report, what: '--report', kind: 'file' as const }] : [])], inputs);
}

/**
 * A verdict from another machine (the job queue) believed as far as this one re-checks it: a counterexample is
 * evaluated here on the model as read here; one that does not hold is unknown, never sat.
 */
function recheckCounterexample(r: PropertyResult, m: AnyModel, propertyPath: string): PropertyResult {
  if (r.result !== 'sat') return r;
  const prop = readVnnlib(propertyPath);
  const x = Float64Array.from(r.counterexample?.x ?? []);
  const y = x.length !== prop.nInputs ? undefined : m.kind === 'graph' ? forwardGraph(m.graph, x) : forward(m.model.network, x);
  if (y && isCounterexample(prop, x, y)) return { ...r, counterexample: { x: Array.from(x), y: Array.from(y) } };
  return { result: 'unknown', boxes: r.boxes, timeMs: r.timeMs, reason: 'a counterexample from a worker did not re-check by plain evaluation here' };
}
