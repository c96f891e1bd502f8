import { fail } from '../errors.ts';
import { loadAnyModel } from '../formats/load.ts';
import { prepareEquiv, runEquiv, type EquivMethod } from '../api/equiv.ts';
import type { EquivAnswer } from '../api/equiv-graph.ts';
import { makeProgress } from './progress.ts';
import { anyModelArg, intOpt, nBoxes, fmt, numberOpt, printJson, resolveDomain, resolveGraphDomain, verdictExit, viewOpt, type CommandSpec } from './common.ts';
import { equivQuestion } from './tolerance-args.ts';
import { withRunner } from './queue-run.ts';

/** How A is named in messages when it is the default network. */
const DEFAULT_NAME = 'the default network';

export const equivCommand: CommandSpec = {
  name: 'equiv',
  summary: 'prove two networks equivalent on a domain (L-infinity within epsilon, or same class)',
  usage: 'nnshrink equiv A|--default B [--domain lo,..:hi,.. | --vnnlib F] (--epsilon E | --same-class argmax|argmin [--margin M]) [--method certificate|diff|product] [--certificate C] [--timeout S] [--max-boxes N] [--jobs N | --redis URL] [--json]\n' +
    '    (with --epsilon 0 it reports the proved max |A-B| and the largest found; --method certificate: B pruned from A by\n' +
    '    nnshrink, paired with A through its certificate (B.certificate.json, or --certificate C), the default when one\n' +
    '    names A and B; diff: the layer-by-layer difference, for B derived from A with the same layer sizes (the default\n' +
    '    when they match); product: A and B side by side as one network, any shapes; with few inputs its\n' +
    '    input-splitting trees split 8 boxes at a time on N worker threads, default the cores, or with --redis on the job\n' +
    '    queue\'s workers (--method product; the same trees and answer for any number); a graph (a CNN\'s ONNX):\n' +
    '    diff for two graphs of the same structure (the default then), product for any two, in one thread; a chain\n' +
    '    beside a graph is compared as the graph of its layers; --domain over the input flattened, or --vnnlib;\n' +
    '    --max-boxes N: at most N subproblems per ReLU-splitting search)',
  options: { default: { type: 'boolean' }, domain: { type: 'string' }, vnnlib: { type: 'string' }, epsilon: { type: 'string' }, 'same-class': { type: 'string' }, margin: { type: 'string' }, method: { type: 'string' }, certificate: { type: 'string' }, timeout: { type: 'string' }, 'max-boxes': { type: 'string' }, view: { type: 'string' }, jobs: { type: 'string' } },
  maxPositionals: (values) => (values.default ? 1 : 2),
  exits: '0 proved (--epsilon 0: the bound asked for was found), 1 refuted (a re-checked witness), 3 unknown within the limits',
  async run(values, positionals) {
    // --default stands for A: B is then the only positional
    if (positionals.length < (values.default ? 1 : 2)) fail(values.default ? 'equiv: need model B to compare with --default' : 'equiv: need two models A and B (or --default B)');
    const [pathA, pathB] = values.default ? [DEFAULT_NAME, positionals[0]] : positionals;
    const view = viewOpt(values);
    const a = values.default ? anyModelArg(values, [], 'equiv') : loadAnyModel(pathA, { view });
    const b = loadAnyModel(pathB, { view });
    const method = values.method ?? 'auto';
    if (values.method !== undefined && !['certificate', 'diff', 'product'].includes(String(method))) fail(`--method: '${String(method)}' (expected certificate, diff or product)`);
    // the sizes, the method and the certificate checked before the domain is read
    const p = prepareEquiv(a, b, { method: method as EquivMethod, ...(typeof values.certificate === 'string' ? { certificate: values.certificate } : {}), names: [pathA, pathB] });
    if (values.redis !== undefined && p.method !== 'product') fail("equiv --redis goes with --method product on two chains (its input-splitting trees are the queue's jobs)");
    const domain = p.kind === 'graph' ? resolveGraphDomain(p.f, pathA, values) : resolveDomain(p.a, values);
    const q = equivQuestion(values);
    const timeoutMs = numberOpt(values, 'timeout', 60, 0.01) * 1000;
    // a work limit (its answer then does not depend on the machine's pace)
    const maxBoxes = values['max-boxes'] === undefined ? undefined : intOpt(values, 'max-boxes', 0, 1);
    const progress = makeProgress(!values.json);
    let r;
    try {
      // the product method's trees on --jobs threads (default the cores), or with --redis on the queue's workers
      r = await withRunner(values, ({ workers, status }) =>
        runEquiv(p, domain, {
          question: q.kind === 'linf' ? { epsilon: q.epsilon } : { sameClass: q.order, margin: q.margin },
          timeoutMs,
          ...(maxBoxes !== undefined ? { maxBoxes } : {}),
          workers,
          onProgress: (at) => progress.update(at.stage, 0, 0, [at.detail ?? '', status()].filter(Boolean).join('; '), at.leftMs === undefined ? undefined : at.leftMs / 1000),
        }),
      );
    } finally {
      progress.done();
    }
    const { note, ...answer } = r;
    printAnswer(answer, q.kind === 'linf' ? q.epsilon : null, values.json === true, note);
    return verdictExit(answer.result);
  },
};

/**
 * The answer as JSON (with the note, if any) or as one line: for a class question (eps null) the verdict and any
 * witness, else the proved and the largest found |A-B|; the note goes to stderr.
 */
function printAnswer(r: EquivAnswer, eps: number | null, json: boolean, note?: string): void {
  if (json) {
    printJson(note ? { ...r, note } : r);
    return;
  }
  const tail = `  [${r.method}, ${nBoxes(r.boxes)}, ${(r.timeMs / 1000).toFixed(2)} s]\n`;
  const head = eps === 0 ? 'bounded' : `${r.result}${r.reason ? ` (${r.reason})` : ''}`;
  process.stdout.write(
    eps === null
      ? `${head}${r.witness ? ` (class differs at x = [${r.witness.join(', ')}])` : ''}${tail}`
      : `${head}: proved max |A-B| <= ${r.provedMaxDiff == null ? 'nothing' : fmt(r.provedMaxDiff)}, largest found ${fmt(r.foundMaxDiff ?? 0)}${tail}`,
  );
  if (note) process.stderr.write(`nnshrink: note: ${note}\n`);
}
