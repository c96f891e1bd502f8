import { fail } from '../errors.ts';
import { outputSize } from '../model/network.ts';
import { loadAnyModel } from '../formats/load.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { checkClass, checkLinf } from '../verify/equiv/equiv.ts';
import { alignedPair } from '../verify/equiv/diff/diff-pair.ts';
import { checkClassProduct, checkLinfProduct } from '../verify/equiv/equiv-product.ts';
import { winnerMargins } from '../verify/equiv/class-relu-split.ts';
import { manyInputs } from '../verify/search/split.ts';
import type { WorkerPool } from '../pool/pool.ts';
import { makeProgress } from './progress.ts';
import { certificateFor, writtenPrune } from '../api/certified.ts';
import { equivThroughEdits } from '../simplify/certified-equiv.ts';
import { equivGraphs } from './graph-equiv.ts';
import type { EquivAnswer } from '../api/equiv-graph.ts';
import { anyModelArg, boundsFor, intOpt, jobsOpt, nBoxes, fmt, numberOpt, printJson, resolveDomain, verdictExit, viewOpt, withTreePool, type CommandSpec } from './common.ts';
import { equivQuestion } from './tolerance-args.ts';

/** How A is named in messages when it is the default network. */
const DEFAULT_NAME = 'the default network';

export const equivCommand: CommandSpec = {
  name: 'equiv',
  summary: 'prove two networks equivalent on a domain (L-infinity within epsilon, or same class)',
  usage: 'nnshrink equiv A|--default B [--domain lo,..:hi,.. | --vnnlib F] (--epsilon E | --same-class argmax|argmin [--margin M]) [--method certificate|diff|product] [--certificate C] [--timeout S] [--max-boxes N] [--jobs N] [--json]\n' +
    '    (with --epsilon 0 it reports the proved max |A-B| and the largest found; --method certificate: B pruned from A by\n' +
    '    nnshrink, paired with A through its certificate (B.certificate.json, or --certificate C), the default when one\n' +
    '    names A and B; diff: the layer-by-layer difference, for B derived from A with the same layer sizes (the default\n' +
    '    when they match); product: A and B side by side as one network, any shapes; with few inputs its\n' +
    '    input-splitting trees split 8 boxes at a time on N worker threads, default the cores; a graph (a CNN\'s ONNX):\n' +
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
    const anyA = values.default ? anyModelArg(values, [], 'equiv') : loadAnyModel(pathA, { view });
    const anyB = loadAnyModel(pathB, { view });
    if (anyA.kind === 'graph' || anyB.kind === 'graph') {
      // a CNN on either side: the graph checks (a chain beside it as the graph of its layers)
      const progress = makeProgress(!values.json);
      progress.update('graph equivalence', 0, 0);
      const { answer, eps } = await equivGraphs(anyA, anyB, pathA, pathB, values);
      progress.done();
      printAnswer(answer, eps, values.json === true, answer.note);
      return verdictExit(answer.result);
    }
    const a = anyA.model;
    const b = anyB.model;
    if (a.network.inputSize !== b.network.inputSize) fail(`equiv: ${pathA} takes ${a.network.inputSize} inputs, ${pathB} takes ${b.network.inputSize}`);
    if (outputSize(a.network) !== outputSize(b.network)) fail(`equiv: ${pathA} has ${outputSize(a.network)} outputs, ${pathB} has ${outputSize(b.network)}`);
    const sizesA = a.network.layers.map((L) => L.outSize).join('x');
    const sizesB = b.network.layers.map((L) => L.outSize).join('x');
    if (values.method !== undefined && !['certificate', 'diff', 'product'].includes(String(values.method))) fail(`--method: '${String(values.method)}' (expected certificate, diff or product)`);
    const given = typeof values.certificate === 'string' ? values.certificate : undefined;
    if (given && values.method !== undefined && values.method !== 'certificate') fail(`equiv: --certificate goes with --method certificate, not ${String(values.method)}`);
    const certified = values.method === undefined || values.method === 'certificate' ? certificateFor(a.network, b.network, pathB, given) : null;
    if (values.method === 'certificate' && !certified) fail(`equiv --method certificate: no certificate at ${pathB}.certificate.json (give --certificate C)`);
    const method = certified ? 'certificate' : (values.method ?? (sizesA === sizesB ? 'diff' : 'product'));
    if (method === 'diff' && sizesA !== sizesB) fail(`equiv --method diff: the networks must have the same layer sizes (${sizesA} vs ${sizesB}); --method product takes any`);
    const domain = resolveDomain(a, values);
    const timeoutMs = numberOpt(values, 'timeout', 60, 0.01) * 1000;
    const progress = makeProgress(!values.json);
    const t0 = Date.now();
    const opts = {
      boundsFn: boundsFor(a.network),
      outputLinearLower,
      timeoutMs,
      onProgress: (done: number, open: number) => progress.update('input splitting', 0, 0, `${done} boxes bounded, ${open} open`, (t0 + timeoutMs - Date.now()) / 1000),
    };
    // a bad --jobs fails whichever method runs (only the product method uses it)
    jobsOpt(values);
    // the product method's input-splitting trees on the workers (the trees do not depend on how many)
    const productOpts = (pool: WorkerPool) => ({
      ...opts,
      pool,
      onProgress: (phase: string, boxes: number, open: number, leftMs: number) =>
        progress.update(phase, 0, 0, `${boxes} boxes bounded, ${open} open`, leftMs / 1000),
    });
    const q = equivQuestion(values);
    if (certified) {
      const pruned = writtenPrune(certified, certified.written);
      const r = equivThroughEdits(a.network, pruned, domain, q, {
        boundsFn: boundsFor(a.network),
        outputLinearLower,
        timeoutMs,
        maxBoxes: maxBoxesOpt(values),
        onProgress: (step) => progress.update(step, 0, 0, '', (t0 + timeoutMs - Date.now()) / 1000),
      });
      progress.done();
      const out = { ...r, method: `${r.method} (paired through ${certified.path})`, reason: r.reason && q.kind === 'class' ? tieNote(r.reason, q.margin) : r.reason };
      printAnswer(out, q.kind === 'linf' ? q.epsilon : null, values.json === true);
      return verdictExit(out.result);
    }
    if (q.kind === 'class') {
      const { order: sc, margin } = q;
      // many inputs: input splitting cannot settle it; A's class margins (half the time) let ReLU splitting on B
      // alone prove the class kept
      const margins =
        method === 'diff' && manyInputs(a.network.inputSize)
          ? winnerMargins(a.network, domain, sc, opts)
          : null;
      const r =
        method === 'diff'
          ? checkClass(alignedPair(a.network, b.network), domain, sc, margin, { ...opts, timeoutMs: Math.max(1, timeoutMs - (Date.now() - t0)), fLower: margins?.lower })
          : await withTreePool(a.network, values, (pool) => checkClassProduct(a.network, b.network, domain, sc, margin, productOpts(pool)));
      progress.done();
      const out = {
        result: r.verdict.status,
        method: r.verdict.method,
        reason: r.verdict.status === 'unknown' ? tieNote(r.verdict.reason, margin) : undefined,
        witness: r.verdict.status === 'refuted' ? Array.from(r.verdict.witness) : undefined,
        boxes: r.boxes,
        timeMs: r.verdict.timeMs,
      };
      printAnswer(out, null, values.json === true, out.result === 'proved' ? undefined : unitsNote(a, b));
      return verdictExit(out.result);
    }
    const eps = q.epsilon;
    const r =
      method === 'diff'
        ? checkLinf(alignedPair(a.network, b.network), domain, eps, { ...opts, maxBoxes: maxBoxesOpt(values) ?? (eps === 0 ? 20000 : undefined) })
        : await withTreePool(a.network, values, (pool) => checkLinfProduct(a.network, b.network, domain, eps, productOpts(pool)));
    progress.done();
    const out = {
      result: r.verdict.status,
      method: r.verdict.method,
      reason: r.verdict.status === 'unknown' ? r.verdict.reason : undefined,
      provedMaxDiff: Number.isFinite(r.provedBound) ? r.provedBound : null,
      foundMaxDiff: r.foundMax,
      witness: r.verdict.status === 'refuted' ? Array.from(r.verdict.witness) : undefined,
      boxes: r.boxes,
      timeMs: r.verdict.timeMs,
    };
    printAnswer(out, eps, values.json === true, out.result === 'proved' ? undefined : unitsNote(a, b));
    return verdictExit(out.result);
  },
};

/**
 * Comparing an NNet file read in raw units (its normalisation folded in) with a model of another format is most
 * often a units mistake: VNN-COMP's ACAS Xu ONNX files are the same networks in normalised units (ACAS Xu 1_1, NNet
 * against ONNX: 13,700 apart in raw units, 3.5e-6 with --view normalized).
 */
function unitsNote(a: LoadedModel, b: LoadedModel): string | undefined {
  const scaled = (m: LoadedModel): boolean =>
    m.format === 'nnet' && m.view !== 'normalized' && !!m.nnet && (m.nnet.outputMean !== 0 || m.nnet.outputRange !== 1 || m.nnet.inputMean.some((v) => v !== 0) || m.nnet.inputRange.some((v) => v !== 1));
  const [nn, other] = scaled(a) ? ['A', b] : scaled(b) ? ['B', a] : [null, null];
  if (!nn || !other || other.format === 'nnet') return undefined;
  const o = nn === 'A' ? 'B' : 'A';
  return `${nn} is an NNet file read in raw units (its normalisation folded in) and ${o} is not: if ${o} takes normalised inputs (as VNN-COMP's ACAS Xu ONNX files do), compare with --view normalized`;
}

/** What every method answers (the certificate pairing's result has this shape too). */
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

/**
 * With margin 0 the claim covers A's ties, where any nonzero difference may pick another winner: unprovable unless
 * the two are the same function, however small the difference (A against itself, ACAS Xu: open after 10 s).
 */
function tieNote(reason: string, margin: number): string {
  return margin === 0 ? `${reason}; with --margin 0 any difference can break a tie of A's scores: give --margin M` : reason;
}

/** --max-boxes: a work limit for the difference search (its answer then does not depend on the machine's pace). */
function maxBoxesOpt(values: Record<string, unknown>): number | undefined {
  return values['max-boxes'] === undefined ? undefined : intOpt(values, 'max-boxes', 0, 1);
}
