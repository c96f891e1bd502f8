import { fail } from '../errors.ts';
import { checkPropertyFits, readVnnlib, vnncompResultText, type VnnProperty } from '../formats/vnnlib.ts';
import { checkOutputs, writeFileAtomic } from '../formats/atomic.ts';
import type { PropertyResult } from '../verify/property/property.ts';
import { makeProgress } from './progress.ts';
import { anyModelArg, EXIT, jobsOpt, nBoxes, numberOpt, printJson, viewOpt, type CommandSpec } from './common.ts';
import { verifyInstances } from './verify-instances.ts';
import { openFamily, type FamilyView } from './family-eval.ts';
import { verifyFamily } from '../slice/family-verify.ts';
import { verify } from '../api/search.ts';
import { checkAnyPropertyFits } from './graph-verify.ts';

export const verifyCommand: CommandSpec = {
  name: 'verify',
  summary: 'decide a VNN-LIB property of a model or a slice family, or a VNN-COMP instance list: sat (with a checked counterexample), unsat, or unknown',
  usage: 'nnshrink verify MODEL|FAMILY|--default PROPERTY.vnnlib [--timeout S] [--results FILE] [--view raw|normalized] [--jobs N] [--json]\n' +
    '       nnshrink verify --instances LIST.csv [--model-dir D] [--property-dir D] [--timeout S] [--results-dir DIR] [--report R.html] [--jobs N | --redis URL [--resume RUN_ID]] [--json]\n' +
    '    (--results FILE: the verdict in the VNN-COMP result format: sat / unsat / unknown / timeout, and for sat the\n' +
    '     counterexample as ((X_0 v) .. (Y_0 v) ..);\n' +
    '     --instances: a VNN-COMP instance list, lines model,property[,timeout seconds], paths relative to the list\'s\n' +
    '     directory (or --model-dir / --property-dir); --timeout replaces the listed limits; instances run side by side\n' +
    '     on N worker threads (default: the cores), each with its own limit; --results-dir gets one result file each;\n' +
    '     --redis: the instances as jobs for nnshrink worker processes on any machine (docs/distributed.md);\n' +
    '     MODEL: with few inputs, each step of the input-splitting tree spreads its 8 most open boxes over N worker\n' +
    '     threads (default: the cores); the tree does not depend on N;\n' +
    '     GRAPH (a convolutional or residual ONNX network): ReLU splitting with branch and bound, MILP for the last\n' +
    '     steps, in one thread; X_i / Y_i are the input / output tensors flattened row-major;\n' +
    '     FAMILY: a slice family (directory or single ONNX file): the property of the function its dispatcher computes,\n' +
    '     each slice on the inputs it serves, side by side on N worker threads, each with the --timeout limit)',
  options: {
    default: { type: 'boolean' },
    view: { type: 'string' },
    timeout: { type: 'string' },
    results: { type: 'string' },
    instances: { type: 'string' },
    'model-dir': { type: 'string' },
    'property-dir': { type: 'string' },
    'results-dir': { type: 'string' },
    report: { type: 'string' },
    jobs: { type: 'string' },
  },
  maxPositionals: (values) => (values.default ? 1 : 2),
  exits: '0 unsat, 1 sat (a re-checked counterexample), 3 unknown or timeout; --instances: 0 when the list ran',
  async run(values, positionals) {
    viewOpt(values);
    if (typeof values.instances === 'string') {
      if (values.default) fail('verify: --default is one model; --instances LIST.csv names the models');
      if (values.results !== undefined) fail('verify: --results is for one instance; with --instances use --results-dir DIR');
      return verifyInstances(values, positionals);
    }
    for (const o of ['model-dir', 'property-dir', 'results-dir', 'report']) if (values[o] !== undefined) fail(`verify: --${o} goes with --instances LIST.csv`);
    // --default stands for MODEL: the property is then the only positional
    const [modelPath, propPath] = values.default ? ['', positionals[0]] : positionals;
    if (propPath === undefined) fail(`verify: need ${values.default ? 'PROPERTY.vnnlib after --default' : 'MODEL and PROPERTY.vnnlib (or --instances LIST.csv)'}`);
    const fam = values.default ? null : openFamily(modelPath);
    if (fam) return verifyFamilyCommand(fam, propPath, values);
    const any = anyModelArg(values, values.default ? [] : [modelPath], 'verify');
    const timeout = (): number => numberOpt(values, 'timeout', 60, 0.01) * 1000;
    // a CNN: ReLU splitting in this thread (one tree); --jobs is read (a bad value fails) but has no threads to give;
    // a chain: the split tree's steps on the workers, the same tree for any number, only sooner
    const workers = jobsOpt(values);
    const net = any.kind === 'graph' ? any.graph : any.model.network;
    const prop = readPropertyFor((p, path) => checkAnyPropertyFits(any, p, path), any.kind === 'graph' ? any.path : modelPath, propPath, values);
    const progress = makeProgress(!values.json);
    let r;
    try {
      r = await verify(net, prop, { timeoutMs: timeout(), workers, onProgress: (p) => progress.update(p.stage, 0, 0, p.detail, p.leftMs === undefined ? undefined : p.leftMs / 1000) });
    } finally {
      progress.done();
    }
    return any.kind === 'graph' ? report(r, values, '', `${r.boxes} ${r.boxes === 1 ? 'node' : 'nodes'}`) : report(r, values, '');
  },
};

/**
 * The property file, checked against the network; a results file that cannot be written, or that is one of the
 * inputs, fails now, not after the search.
 */
function readPropertyFor(fits: (prop: VnnProperty, path: string) => void, modelPath: string, path: string, values: Record<string, unknown>): VnnProperty {
  const prop = readVnnlib(path);
  fits(prop, path);
  if (typeof values.results === 'string') {
    checkOutputs([{ path: values.results, what: '--results', kind: 'file' }], [{ path: modelPath, what: 'MODEL' }, { path, what: 'PROPERTY' }]);
  }
  return prop;
}

/** The exit code of a verdict: unsat (the property holds) 0, sat 1, unknown 3. */
function verdictCode(r: PropertyResult): number {
  return r.result === 'unsat' ? EXIT.ok : r.result === 'sat' ? EXIT.refuted : EXIT.unknown;
}

/** The verdict: the results file, then JSON or the verdict line, the counterexample and (on stderr) the effort. */
function report(r: PropertyResult, values: Record<string, unknown>, effort: string, work = nBoxes(r.boxes)): number {
  if (typeof values.results === 'string') writeFileAtomic(values.results, vnncompResultText(r));
  if (values.json) printJson(r);
  else {
    process.stdout.write(`${r.result}\n`);
    if (r.counterexample) process.stdout.write(`counterexample x = [${r.counterexample.x.join(', ')}]\n  y = [${r.counterexample.y.join(', ')}]\n`);
    process.stderr.write(`(${effort}${work}, ${(r.timeMs / 1000).toFixed(2)} s${r.reason ? `, ${r.reason}` : ''})\n`);
  }
  return verdictCode(r);
}

/** `verify FAMILY PROPERTY`: the property of the family's dispatcher function, slice by slice (family-verify.ts). */
async function verifyFamilyCommand(fam: FamilyView, propPath: string, values: Record<string, unknown>): Promise<number> {
  const prop = readPropertyFor((p, path) => checkPropertyFits(fam.net(0), p, path), fam.path, propPath, values);
  const progress = makeProgress(!values.json);
  const r = await verifyFamily(fam, prop, numberOpt(values, 'timeout', 60, 0.01) * 1000, jobsOpt(values), (d, t) => progress.update('slices', d, t));
  progress.done();
  const counts = ['unsat', 'sat', 'unknown'].map((k) => [k, r.perSlice.filter((s) => s.result === k).length] as const).filter(([, c]) => c > 0);
  return report(r, values, `slice family: ${r.perSlice.length} slices serve the property's inputs, ${counts.map(([k, c]) => `${c} ${k}`).join(', ')}; `);
}
