import { fail } from '../errors.ts';
import { anyModelArg, intOpt, numberOpt, printJson, resolveDomain, type CommandSpec } from './common.ts';
import { makeProgress } from './progress.ts';
import { size } from '../model/graph/shape.ts';
import { withRunner } from './queue-run.ts';
import { TOLERANCE_OPTIONS, toleranceFrom } from './tolerance-args.ts';
import { slice, type Sliced } from '../api/slice.ts';

/** The most slices a family may have (--max-slices, and 2^(inputs x levels) for --levels). */
export const MAX_SLICES = 65_536;

/**
 * Why a graph network is not sliced. A slice is a box of the input space; for an image network of thousands of
 * inputs even one cut per input would be 2^n boxes, and the few-input graphs met so far are all chains (which are
 * sliced). Slicing a graph of few inputs would need the graph pruner per slice and a graph dispatcher: not built.
 */
function graphSliceRefusal(path: string, inputs: number): string {
  return inputs > 64
    ? `${path}: a graph network of ${inputs} inputs (an image network): slice splits the input box, and cutting ${inputs} dimensions is not a family anyone could store; prune it on its domain instead (nnshrink prune, channels)`
    : `${path}: a graph network (not a chain of dense layers): slice takes fully-connected networks; prune it on its domain instead (nnshrink prune, channels)`;
}

function stats(xs: number[]): { mean: number; median: number; max: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, median: s[Math.floor(s.length / 2)], max: s[s.length - 1], min: s[0] };
}

export const sliceCommand: CommandSpec = {
  name: 'slice',
  summary: 'split the domain into boxes and prune each: a family of small networks with a dispatcher',
  usage:
    'nnshrink slice MODEL|--default [--domain lo,..:hi,.. | --vnnlib F] [--strategy uniform|adaptive] [--levels K | --max-slices N]\n' +
    '    [--epsilon E | --preserve-class argmax|argmin] -o FAMILY_DIR [--onnx FAMILY.onnx] [--report R.html [--report-dims I,J]] [--jobs N] [--timeout S]\n' +
    '    [--max-boxes N] [--json] [--redis redis://[:PASSWORD@]HOST[:PORT] [--resume RUN_ID]]  (slices as jobs for nnshrink worker processes on any\n' +
    '     machines, in place of --jobs threads: the same family; docs/distributed.md)\n' +
    '    (--report: one self-contained HTML page, the slice boxes drawn in inputs X_I and X_J, from 0; default the two\n' +
    '     the split tree cuts most, coloured by ReLU neurons per slice, and a histogram of them)\n' +
    '    (--max-boxes N: at most N boxes in every search of every slice; with a generous --timeout the family is then\n' +
    '     the same on any machine and for any --jobs or workers)\n' +
    `    (--levels K: whole, from 1; --max-slices N: whole, 1 to ${MAX_SLICES}, and 2^(inputs x K) at most that too)`,
  options: {
    default: { type: 'boolean' },
    view: { type: 'string' },
    domain: { type: 'string' },
    vnnlib: { type: 'string' },
    strategy: { type: 'string' },
    levels: { type: 'string' },
    'max-slices': { type: 'string' },
    ...TOLERANCE_OPTIONS,
    output: { type: 'string', short: 'o' },
    onnx: { type: 'string' },
    report: { type: 'string' },
    'report-dims': { type: 'string' },
    timeout: { type: 'string' },
    'max-boxes': { type: 'string' },
    jobs: { type: 'string' },
  },
  maxPositionals: 1,
  exits: '0 written (a slice not proved in time keeps the original network, as its certificate says)',
  async run(values, positionals) {
    const any = anyModelArg(values, positionals, 'slice');
    if (any.kind === 'graph') fail(graphSliceRefusal(any.path, size(any.graph.input.shape)));
    const model = any.model;
    const domain = resolveDomain(model, values);
    const out = values.output;
    if (typeof out !== 'string') fail('slice: missing -o FAMILY_DIR');
    const strategy = (values.strategy ?? 'adaptive') as string;
    if (strategy !== 'uniform' && strategy !== 'adaptive') fail(`--strategy: '${strategy}' (expected uniform or adaptive)`);
    if (values.levels !== undefined && values['max-slices'] !== undefined) fail('give either --levels or --max-slices');
    const levels = values.levels !== undefined ? intOpt(values, 'levels', 1, 1, 16) : undefined;
    const maxSlices = values['max-slices'] !== undefined ? intOpt(values, 'max-slices', 32, 1, MAX_SLICES) : undefined;
    const n = model.network.inputSize;
    if (levels !== undefined && n * levels > 16) fail(`--levels: '${levels}' over ${n} inputs means up to 2^${n * levels} slices, more than the maximum, ${MAX_SLICES}`);
    if (strategy === 'uniform' && maxSlices !== undefined) fail('--max-slices goes with --strategy adaptive (uniform takes --levels)');
    const tolerance = toleranceFrom(values);
    const timeoutS = numberOpt(values, 'timeout', 10, 0.1);
    const maxBoxes = values['max-boxes'] !== undefined ? intOpt(values, 'max-boxes', 0, 1) : undefined;
    const progress = makeProgress(!values.json);
    const reportDims = reportDimsOpt(values, n);
    let run: Sliced;
    let shown: [number, number, string] = [0, 0, ''];
    let queue: () => string = () => '';
    const show = (): void => progress.update('slicing', shown[0], shown[1], [shown[2], queue()].filter(Boolean).join('  '));
    try {
      run = await withRunner(values, ({ workers, status }) => {
        queue = status;
        return slice(model, {
          output: out,
          ...(typeof values.onnx === 'string' ? { onnx: values.onnx } : {}),
          ...(typeof values.report === 'string' ? { report: values.report, ...(reportDims ? { reportDims } : {}) } : {}),
          ...(typeof values.vnnlib === 'string' ? { domainFile: values.vnnlib } : {}),
          domain,
          strategy,
          ...(levels !== undefined ? { levels } : {}),
          ...(maxSlices !== undefined ? { maxSlices } : {}),
          tolerance,
          timeoutMs: timeoutS * 1000,
          ...(maxBoxes !== undefined ? { maxBoxes } : {}),
          workers,
          onProgress: (p) => {
            shown = [p.done, p.total, p.detail ?? ''];
            show();
          },
        });
      }, show);
    } finally {
      progress.done();
    }
    const before = run.before;
    const relu = stats(run.slices.map((s) => s.reluNeurons / Math.max(1, before.reluNeurons)));
    const par = stats(run.slices.map((s) => s.parameters / before.parameters));
    const summary = {
      family: out,
      slices: run.slices.length,
      strategy,
      reluFraction: relu,
      parameterFraction: par,
      familyCheck: run.familyCheck,
      /** slices whose pruned network failed its final check and kept the original */
      fallbackSlices: run.slices.filter((s) => s.fallback).length,
      /** cuts made although none of their box's cuts stabilised a neuron (adaptive) */
      cutsWithoutGain: run.partition.cutsWithoutGain ?? 0,
      timeMs: run.timeMs,
      onnx: values.onnx ?? null,
    };
    if (values.json) printJson(summary);
    else {
      const pc = (x: number): string => `${(100 * x).toFixed(1)}%`;
      process.stdout.write(
        [
          `nnshrink slice: ${model.path} -> ${out} (${run.slices.length} slices, ${strategy}${run.partition.regions ? `; the domain's ${run.partition.regions.length} boxes cut apart first` : ''})`,
          `  ReLU neurons per slice vs original: mean ${pc(relu.mean)}, median ${pc(relu.median)}, max ${pc(relu.max)}`,
          `  parameters per slice vs original:   mean ${pc(par.mean)}, median ${pc(par.median)}, max ${pc(par.max)}`,
          ...(run.partition.cutsWithoutGain ? [`  ${run.partition.cutsWithoutGain} of the ${run.slices.length - 1} cuts stabilised no neuron by the chooser's bounds (the box's widest input was halved): ${run.partition.cutsWithoutGain === run.slices.length - 1 ? 'expect slices no smaller than pruning the whole domain' : 'those slices gain little'}`] : []),
          ...(summary.fallbackSlices ? [`  ${summary.fallbackSlices} slice(s) kept the original network: their pruned version was not proved in time (see their certificates)`] : []),
          `  every slice: final check proved on its box${run.partition.regions ? ' (the parts of the domain it holds)' : ''}; family sampling through the dispatcher: ${run.familyCheck.points} points (${run.familyCheck.boundaryPoints} on cuts), largest |f-g| ${run.familyCheck.maxAbsDiff.toExponential(2)}`,
          `  time ${(run.timeMs / 1000).toFixed(1)} s${values.onnx ? `; single-file ONNX: ${values.onnx}` : ''}`,
          `  evaluate: nnshrink eval ${out} --input ...`,
        ].join('\n') + '\n',
      );
    }
    return 0;
  },
};

/** --report-dims I,J: two distinct input indices from 0 (undefined: the report picks the two most split). */
function reportDimsOpt(values: Record<string, unknown>, n: number): [number, number] | undefined {
  const v = values['report-dims'];
  if (v === undefined) return undefined;
  if (values.report === undefined) fail('--report-dims goes with --report R.html');
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(String(v));
  const dims = m ? [Number(m[1]), Number(m[2])] : [];
  if (!m || dims.some((d) => d >= n) || (dims[0] === dims[1] && n > 1)) fail(`--report-dims: '${String(v)}' (expected I,J: two different inputs from 0 to ${n - 1})`);
  return [dims[0], dims[1]];
}
