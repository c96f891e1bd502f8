import { fail } from '../errors.ts';
import { formatOf } from '../formats/load.ts';
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import type { ToleranceSearchStats } from '../simplify/prune.ts';
import { describeTolerance } from '../verify/tolerance.ts';
import { anyModelArg, finalCheckExit, intOpt, precisionOpt, nBoxes, reluPairsNote, fmt, numberOpt, printJson, resolveDomain, type CommandSpec } from './common.ts';
import { makeProgress } from './progress.ts';
import { TOLERANCE_OPTIONS, toleranceFrom } from './tolerance-args.ts';
import { VERSION } from '../version.ts';
import { pruneGraph } from './graph-prune.ts';
import { pruneReport } from '../report/prune.ts';
import { pruneChainRun, type ChainPruneAsk, type ChainPruneRun } from '../api/prune-chain.ts';
import { prunedPath, pruneQuantizeRun, type PruneQuantRun, type QuantizeAsk } from '../api/prune-quantize.ts';
import { withRunner } from './queue-run.ts';

export const pruneCommand: CommandSpec = {
  name: 'prune',
  summary: 'remove provably redundant neurons; writes the smaller network and a certificate',
  usage:
    'nnshrink prune MODEL|--default [--domain lo,..:hi,.. | --vnnlib F] [--epsilon E | --preserve-class argmax|argmin [--margin M]]\n' +
    '    -o OUT.(onnx|nnet|json) [--certificate C.json] [--report R.html] [--precision float32|float64] [--jobs N | --redis URL [--resume RUN_ID]] [--timeout S] [--max-boxes N] [--json]\n' +
    '    [--quantize float16|int8 [--per-channel]] (then the pruned network, written as OUT.pruned.onnx, quantised to OUT.onnx,\n' +
    '    with one claim max |f-q| <= D + E: the prune\'s bound plus the quantisation\'s smallest proved one; one certificate)\n' +
    '    (--report: one self-contained HTML page: neurons per layer by reason, sizes, the claim and its proof, hashes, times)\n' +
    '    (a graph network, a CNN\'s ONNX: channels pruned, exactly, with --epsilon E or with --preserve-class; no --jobs or --max-boxes there)',
  options: {
    default: { type: 'boolean' },
    view: { type: 'string' },
    domain: { type: 'string' },
    vnnlib: { type: 'string' },
    ...TOLERANCE_OPTIONS,
    output: { type: 'string', short: 'o' },
    certificate: { type: 'string' },
    report: { type: 'string' },
    precision: { type: 'string' },
    timeout: { type: 'string' },
    'max-boxes': { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    quantize: { type: 'string' },
    'per-channel': { type: 'boolean' },
  },
  maxPositionals: 1,
  exits: '0 written and proved, 1 final check refuted, 3 final check not proved within the limits (nothing written)',
  async run(values, positionals) {
    const any = anyModelArg(values, positionals, 'prune');
    // a CNN's ONNX: the channel prune of graph networks
    if (any.kind === 'graph') {
      if (values.quantize !== undefined) fail('prune --quantize: chains only (a graph network: prune it, then nnshrink quantize the result)');
      if (values.redis !== undefined) fail("prune --redis: a graph network's channel prune runs in this process (it has no queue jobs); drop --redis");
      return pruneGraph(any, values);
    }
    const model = any.model;
    const domain = resolveDomain(model, values);
    const tolerance = toleranceFrom(values);
    const out = values.output;
    if (typeof out !== 'string') fail('prune: missing -o OUT.(onnx|nnet|json)');
    const fmtOut = formatOf(out);
    // an ONNX output keeps the source's element type (a drop-in replacement); else float64: float32 storage is a
    // perturbation the final check must prove small, which can be costly
    const source = fmtOut === 'onnx' ? model.onnx : undefined;
    const precision = precisionOpt(values, source?.precision ?? 'float64');
    if (fmtOut !== 'onnx' && precision === 'float32') fail('--precision float32 applies to ONNX output only');
    const timeoutS = numberOpt(values, 'timeout', 30, 0.1);
    const seed = intOpt(values, 'seed', 1, 0);
    const certPath = typeof values.certificate === 'string' ? values.certificate : `${out}.certificate.json`;
    const reportPath = typeof values.report === 'string' ? values.report : undefined;
    const quant = quantizeOpt(values, reportPath);
    // every output writable, none an input or the other, before any work
    checkOutputs(
      [{ path: out, what: '-o', kind: 'file' }, { path: certPath, what: '--certificate', kind: 'file' }, ...(quant ? [{ path: prunedPath(out), what: 'the pruned network', kind: 'file' as const }] : []), ...(reportPath ? [{ path: reportPath, what: '--report', kind: 'file' as const }] : [])],
      [...positionals.slice(0, 1).map((p) => ({ path: p, what: 'MODEL' })), ...(typeof values.vnnlib === 'string' ? [{ path: values.vnnlib, what: '--vnnlib' }] : [])],
    );
    const progress = makeProgress(!values.json);
    let run: ChainPruneRun;
    let both: PruneQuantRun | undefined;
    try {
      // the census's jobs and the sampling's chunks on --jobs threads, or with --redis on the queue's workers
      run = await withRunner(values, async ({ workers, status }) => {
        const ask: ChainPruneAsk = {
        domain,
        tolerance,
        output: out,
        certificate: certPath,
        precision,
        timeoutMs: timeoutS * 1000,
        seed,
        // a work limit per search: with a generous --timeout the result no longer depends on the machine's pace
        ...(values['max-boxes'] !== undefined ? { maxBoxes: intOpt(values, 'max-boxes', 0, 1) } : {}),
        workers,
        onWarning: (w) => !values.json && process.stderr.write(`nnshrink: warning: ${w}\n`),
        onProgress: (p) => progress.update(p.stage, Math.round(p.done), Math.round(p.total), [p.detail, status()].filter(Boolean).join('; '), p.leftMs === undefined ? undefined : p.leftMs / 1000),
        };
        if (!quant) return pruneChainRun(model, ask).catch(finalCheckExit);
        // then the pruned network quantised, with one claim about f and the file written
        both = await pruneQuantizeRun(model, ask, quant).catch(finalCheckExit);
        return both.prune;
      });
    } finally {
      progress.done();
    }
    const { certificate: cert, summary, reluPairs, run: r } = run;
    const vacuous = summary.vacuous;
    const stored = summary.stored;
    const report = reportPath ? [{ path: reportPath, data: pruneReport({ model: model.path, output: out, certificatePath: certPath, cert, toleranceSearch: r.result.toleranceSearch, vacuous, version: VERSION }) }] : [];
    // one set: the model, its certificate (and the report), or none of them
    writeFilesAtomic([...(both ? both.files : run.files), ...report]);
    const quantized = both ? { to: quant!.to, perChannel: quant!.perChannel, pruned: both.pruned, quantizationEpsilon: both.quant.epsilon, epsilon: both.certificate.epsilon, bytes: both.quant.sizes.bytes } : undefined;
    if (values.json) {
      const { kind: _kind, ...fields } = summary;
      printJson({ output: out, certificate: certPath, ...fields, ...(quantized ? { quantized } : {}) });
      return 0;
    }
    const ts = r.result.toleranceSearch;
    const b = r.result.before;
    const a = r.result.after;
    const c = r.result.census.counts;
    const kinds = new Map<string, number>();
    for (const s of r.result.steps) kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1);
    const lines = [
      `nnshrink prune: ${model.path} -> ${out}`,
      `  domain: ${nBoxes(domain.length)}; tolerance: ${describeTolerance(r.tolerance)}`,
      `  phase census: ${c.never} never active, ${c.always} always active, ${c.both} both, ${c.unknown} unknown (kept) [${(r.result.census.timeMs / 1000).toFixed(1)} s, ${nBoxes(r.result.census.boxes)}]`,
      ...(ts ? [toleranceSearchLine(ts)] : []),
      `  changes: ${[...kinds].map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`,
      ...(r.result.toleranceDropped ? [`  ${r.result.toleranceDropped} changes within the tolerance undone: the final check did not prove them (it re-proves the census's phase facts in its own time; a larger --timeout gives it more); the result is the exact one`] : []),
      ...(r.result.keptAsRelu ? [`  ${r.result.keptAsRelu} always-active neurons kept as ReLUs: NNet would store them linear as ReLU pairs, a larger file`] : []),
      `  ReLU neurons ${b.reluNeurons} -> ${a.reluNeurons}, hidden neurons ${b.neurons} -> ${a.neurons}, layers ${b.layers} -> ${a.layers}, parameters ${b.parameters} -> ${a.parameters} (${((100 * (b.parameters - a.parameters)) / b.parameters).toFixed(1)}% fewer)`,
      ...(reluPairs && stored ? [`  ${reluPairsNote(reluPairs)} (the file: ${stored.neurons} hidden neurons, ${stored.parameters} parameters)`] : []),
      `  final check (${r.check.verdict.method}, ${nBoxes(r.check.verdict.boxes ?? 0)}, ${(r.check.verdict.timeMs / 1000).toFixed(1)} s): PROVED ${r.check.claim}` +
        (r.check.provedBound !== undefined ? `; proved max |f-g| <= ${fmt(r.check.provedBound)}` : ''),
      `  sampling: ${r.check.sampling.points} points, largest |f-g| ${fmt(r.check.sampling.maxAbsDiff)}` +
        (r.check.sampling.classDisagreements !== undefined ? `, ${r.check.sampling.classDisagreements} class disagreements` : ''),
      ...(both && quantized
        ? [
            `  pruned network (float): ${both.pruned}; quantised to ${quantized.to}${quantized.perChannel ? ' per channel' : ''}: proved max |g-q| <= ${fmt(quantized.quantizationEpsilon)} (${quantized.bytes} bytes)`,
            `  end to end: PROVED max |f-q| <= ${fmt(quantized.epsilon)} (the prune's bound plus the quantisation's)`,
          ]
        : []),
      `  certificate: ${certPath}   (re-check: nnshrink check ${certPath})`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};

/** --quantize float16|int8 [--per-channel]: quantise the pruned network too (ONNX output, no report page). */
function quantizeOpt(values: Record<string, unknown>, reportPath: string | undefined): QuantizeAsk | undefined {
  const to = values.quantize;
  if (to === undefined) {
    if (values['per-channel']) fail('prune: --per-channel goes with --quantize int8');
    return undefined;
  }
  if (to !== 'float16' && to !== 'int8') fail(`--quantize: '${String(to)}' (expected float16 or int8)`);
  if (values['per-channel'] && to !== 'int8') fail('prune: --per-channel goes with --quantize int8');
  if (reportPath) fail('prune: --report goes without --quantize (the report page shows a prune alone)');
  return { to, perChannel: values['per-channel'] === true };
}

/** What the tolerance search did, so a run that changed nothing within the tolerance says why (time or proofs). */
function toleranceSearchLine(t: ToleranceSearchStats): string {
  if (t.ended === 'no-winner') {
    return "  tolerance search: not run: the original's class is not proved the same on the whole domain, and with this many inputs no change can be proved class-preserving without that";
  }
  const open = t.queries - t.provedQueries - t.refutedQueries;
  const tail =
    t.ended === 'budget'
      ? `; its time (${(t.budgetMs / 1000).toFixed(0)} s, 10x --timeout) ran out with candidates left`
      : '; every candidate tried';
  return (
    `  tolerance search: ${t.accepted} of ${t.candidates} candidate changes kept, ${t.queries} queries (${t.provedQueries} proved, ` +
    `${t.refutedQueries} refuted, ${open} undecided) in ${(t.timeMs / 1000).toFixed(1)} s${tail}`
  );
}
