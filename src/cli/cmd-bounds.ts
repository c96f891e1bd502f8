import { fail } from '../errors.ts';
import { intervalBounds } from '../bounds/interval.ts';
import { symbolicBounds } from '../bounds/symbolic.ts';
import { crownBounds } from '../bounds/backward.ts';
import { alphaCrownBounds } from '../bounds/alpha.ts';
import type { Network } from '../model/network.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import { maximizeLinearOnPool, minimizeLinearOnPool, neuronPhase } from '../verify/property/maximize.ts';
import { phaseCensusParallel, type NeuronPhase } from '../verify/phase/phase.ts';
import { makeProgress } from './progress.ts';
import { withRunner } from './queue-run.ts';
import { anyModelArg, boundsFor, EXIT, nBoxes, fmt, numberOpt, printJson, resolveDomain, resolveGraphDomain, withTreePool, type CommandSpec } from './common.ts';
import { graphBounds } from './graph-bounds.ts';
import { graphCensus } from './graph-census.ts';
import { checkOutputs, writeFileAtomic } from '../formats/atomic.ts';
import { censusReport } from '../report/census.ts';
import { VERSION } from '../version.ts';

/** the longest list of neuron indices the census's text output prints */
const LIST_MAX = 24;

export const boundsCommand: CommandSpec = {
  name: 'bounds',
  summary: 'sound pre-activation bounds of every neuron over the domain',
  usage: 'nnshrink bounds MODEL|--default [--domain lo,..:hi,.. | --vnnlib F] [--method interval|symbolic|crown|alpha] [--json]\n' +
    '    (alpha: CROWN, then every unstable neuron re-bounded with relaxation slopes optimised for it; slower, tighter)\n' +
    'nnshrink bounds MODEL|--default [domain] (--max | --min) OBJECTIVE [--precision E] [--relative-precision R] [--timeout S] [--jobs N] [--json]\n' +
    '    the maximum (minimum) of one linear function of a layer\'s pre-activations (the last layer: the outputs), to a\n' +
    '    precision: a witness input and its value, and a proved bound on the other side. OBJECTIVE is LAYER:INDEX (one\n' +
    '    neuron) or LAYER=c1,c2,.. (one coefficient per neuron of the layer); layers count from 1 as listed above.\n' +
    '    Stops once the gap is at most max(E, R x |value|) (defaults 1e-3 and 1e-3) or after S seconds (default 60).\n' +
    'nnshrink bounds MODEL|--default [domain] --phase LAYER:INDEX [--timeout S] [--jobs N] [--json]\n' +
    '    one neuron\'s phase over the domain: never active or always active (proved), both (two checked witnesses),\n' +
    '    or unknown (with the proved range of its pre-activation).\n' +
    '    --max, --min and --phase split 8 boxes at a time on N worker threads (default: the cores) when the inputs\n' +
    '    are few; the split trees do not depend on N.\n' +
    'nnshrink bounds MODEL|--default [domain] --census [--timeout S] [--task-timeout T] [--jobs N] [--report R.html] [--json]\n' +
    '    the phase of every hidden neuron: one input-splitting tree shared by all, as two halves of the domain with S/2\n' +
    '    seconds each (default S = 4), then one task of T seconds (default 1.5) per neuron still open (at most 64);\n' +
    '    halves and tasks run on N worker threads, and the verdicts do not depend on N.\n' +
    '    --redis redis://[:PASSWORD@]HOST[:PORT] [--resume RUN_ID]: halves and tasks as jobs for nnshrink worker\n' +
    '    processes on any machines instead (docs/distributed.md).\n' +
    'nnshrink bounds GRAPH.onnx (--domain lo,..:hi,.. | --vnnlib F) [--method interval|crown|alpha] [--json]\n' +
    '    a graph network (a CNN; the domain is a box over its input flattened row-major): bounds of the outputs and a\n' +
    '    summary per ReLU node of its inputs proved never / always active and unstable (alpha: CROWN, then optimised\n' +
    '    slopes for each output; a bound refused, as a divisor whose interval holds 0, exits 3).\n' +
    'nnshrink bounds GRAPH.onnx (--domain .. | --vnnlib F) --census [--timeout S] [--report R.html] [--json]\n' +
    '    the phase of every ReLU input element of a graph network and of every channel: never / always active\n' +
    '    (proved on every box), both (seen by evaluated points), unknown; within S seconds (default 30).\n' +
    '    --report R.html (with --census): one self-contained HTML page, a map of every layer\'s neurons by phase.',
  options: {
    default: { type: 'boolean' }, view: { type: 'string' }, domain: { type: 'string' }, vnnlib: { type: 'string' }, method: { type: 'string' },
    max: { type: 'string' }, min: { type: 'string' }, phase: { type: 'string' }, census: { type: 'boolean' }, 'task-timeout': { type: 'string' }, report: { type: 'string' }, jobs: { type: 'string' }, precision: { type: 'string' }, 'relative-precision': { type: 'string' }, timeout: { type: 'string' },
  },
  maxPositionals: 1,
  exits: '0 done (--max / --min: proved to the precision asked; --phase: decided), 3 --max / --min not to the precision within the time, --phase unknown',
  run(values, positionals) {
    if (values.report !== undefined && !values.census) fail('bounds: --report goes with --census');
    const any = anyModelArg(values, positionals, 'bounds');
    // the report's path is checked before any work (written once the census is done)
    if (typeof values.report === 'string') checkOutputs([{ path: values.report, what: '--report', kind: 'file' }], [...positionals.slice(0, 1).map((p) => ({ path: p, what: 'MODEL' })), ...(typeof values.vnnlib === 'string' ? [{ path: values.vnnlib, what: '--vnnlib' }] : [])]);
    if (any.kind === 'graph') return graphBoundsCommand(any.graph, any.path, values);
    const m = any.model;
    const domain = resolveDomain(m, values);
    if (values.census) return census(m.network, domain, values, m.path);
    if (values.phase !== undefined) return phase(m.network, domain, values);
    if (values.max !== undefined || values.min !== undefined) return optimise(m.network, domain, values);
    const method = (values.method ?? 'crown') as string;
    const alpha = (net: Network, box: Box) => alphaCrownBounds(net, box, crownBounds(net, box));
    const fn =
      method === 'interval' ? intervalBounds
      : method === 'symbolic' ? symbolicBounds
      : method === 'crown' ? crownBounds
      : method === 'alpha' ? alpha
      : fail(`--method: '${method}' (expected interval, symbolic, crown or alpha)`);
    const t0 = Date.now();
    const all = domain.map((b) => fn(m.network, b));
    // the hull over the domain's boxes
    const res = all[0].map((lb, k) => ({
      lo: Array.from(lb.lo, (_, i) => Math.min(...all.map((a) => a[k].lo[i]))),
      hi: Array.from(lb.hi, (_, i) => Math.max(...all.map((a) => a[k].hi[i]))),
    }));
    const ms = Date.now() - t0;
    if (values.json) {
      printJson({ method, timeMs: ms, layers: res });
      return 0;
    }
    res.forEach((L, k) => {
      const relu = m.network.layers[k].relu;
      let never = 0;
      let always = 0;
      L.lo.forEach((lo, i) => {
        if (!relu[i]) return;
        if (L.hi[i] <= 0) never++;
        else if (lo >= 0) always++;
      });
      const width = L.lo.reduce((s, lo, i) => s + (L.hi[i] - lo), 0) / L.lo.length;
      process.stdout.write(`layer ${k + 1}: ${L.lo.length} neurons, mean width ${fmt(width)}, proved never active ${never}, always active ${always}\n`);
    });
    process.stdout.write(`(${method}, ${ms} ms)\n`);
    return 0;
  },
};

/** `bounds` on a graph network: the bounds of its outputs and activation inputs, or the census. */
function graphBoundsCommand(g: Graph, path: string, values: Record<string, string | boolean | undefined>): number | Promise<number> {
  const chainOnly = (['max', 'min', 'phase'] as const).find((k) => values[k] !== undefined);
  if (chainOnly) fail(`--${chainOnly}: not available on graph networks yet (${path} is one); --census gives every ReLU's phase`);
  const domain = resolveGraphDomain(g, path, values);
  if (values.census) return graphCensus(g, path, domain, values);
  return graphBounds(g, path, domain, values);
}

/** LAYER:INDEX or LAYER=c1,c2,.. (layers from 1) into a layer index and a coefficient vector over its neurons. */
export function parseObjective(spec: string, net: Network, flag: string): { layer: number; c: Float64Array } {
  const m = /^\s*(\d+)\s*([:=])\s*(.+)$/.exec(spec);
  if (!m) fail(`--${flag}: '${spec}' (expected LAYER:INDEX or LAYER=c1,c2,..)`);
  const layer = Number(m[1]) - 1;
  const L = net.layers;
  if (!(layer >= 0 && layer < L.length)) fail(`--${flag}: layer ${m[1]} does not exist (the network has layers 1 to ${L.length})`);
  const width = L[layer].outSize;
  const c = new Float64Array(width);
  if (m[2] === ':') {
    const i = Number(m[3]);
    if (!Number.isInteger(i) || i < 0 || i >= width) fail(`--${flag}: neuron '${m[3]}' of layer ${m[1]} (expected 0 to ${width - 1})`);
    c[i] = 1;
    return { layer, c };
  }
  const parts = m[3].split(',');
  if (parts.length !== width) fail(`--${flag}: ${parts.length} coefficients for layer ${m[1]}, which has ${width} neurons`);
  parts.forEach((p, i) => {
    const v = Number(p);
    if (p.trim() === '' || !Number.isFinite(v)) fail(`--${flag}: coefficient ${i + 1} '${p}' is not a number`);
    c[i] = v;
  });
  return { layer, c };
}

async function optimise(net: Network, domain: Box[], values: Record<string, string | boolean | undefined>): Promise<number> {
  if (values.max !== undefined && values.min !== undefined) fail('give either --max or --min, not both');
  const flag = values.max !== undefined ? 'max' : 'min';
  const { layer, c } = parseObjective(String(values[flag]), net, flag);
  const progress = makeProgress(!values.json);
  const opts = {
    timeoutMs: numberOpt(values, 'timeout', 60, 0.01) * 1000,
    precision: numberOpt(values, 'precision', 1e-3),
    relativePrecision: numberOpt(values, 'relative-precision', 1e-3),
    onProgress: (v: number, b: number, boxes: number, open: number) => progress.update(`${flag}imising`, 0, 0, `in [${fmt(Math.min(v, b))}, ${fmt(Math.max(v, b))}], ${boxes} boxes, ${open} open`),
  };
  const r = await withTreePool(net, values, (pool) => (flag === 'max' ? maximizeLinearOnPool : minimizeLinearOnPool)(net, domain, layer, c, 0, opts, pool));
  progress.done();
  const code = r.status === 'proved' ? EXIT.ok : EXIT.unknown;
  if (values.json) {
    printJson({ objective: flag, layer: layer + 1, coefficients: c, ...r });
    return code;
  }
  const lo = Math.min(r.value, r.bound);
  const hi = Math.max(r.value, r.bound);
  const what = flag === 'max' ? 'maximum' : 'minimum';
  const state = r.status === 'proved' ? 'proved to the precision asked' : `not within the precision asked (${r.reason})`;
  process.stdout.write(`${what} in [${lo}, ${hi}]: ${state}\n`);
  process.stdout.write(`  value ${r.value} at x = [${Array.from(r.witness).join(', ')}]\n`);
  process.stdout.write(`  proved ${flag === 'max' ? 'upper' : 'lower'} bound ${r.bound}\n`);
  process.stderr.write(`(${nBoxes(r.boxes)}, ${(r.timeMs / 1000).toFixed(2)} s)\n`);
  return code;
}

async function phase(net: Network, domain: Box[], values: Record<string, string | boolean | undefined>): Promise<number> {
  if (values.max !== undefined || values.min !== undefined) fail('give either --phase or --max / --min, not both');
  const spec = String(values.phase);
  if (!/^\s*\d+\s*:/.test(spec)) fail(`--phase: '${spec}' (expected LAYER:INDEX)`);
  const { layer, c } = parseObjective(spec, net, 'phase');
  if (layer === net.layers.length - 1) fail(`--phase: layer ${layer + 1} is the output layer (no ReLU); use --max / --min`);
  const index = c.indexOf(1);
  const progress = makeProgress(!values.json);
  const timeoutMs = numberOpt(values, 'timeout', 60, 0.01) * 1000;
  const r = await withTreePool(net, values, (pool) =>
    neuronPhase(net, domain, layer, index, { timeoutMs, onProgress: (_v, _b, boxes, open) => progress.update('deciding the phase', 0, 0, `${boxes} boxes, ${open} open`) }, pool),
  );
  progress.done();
  const code = r.phase === 'unknown' ? EXIT.unknown : EXIT.ok;
  if (values.json) {
    printJson({ layer: layer + 1, index, ...r });
    return code;
  }
  const name = `neuron ${index} of layer ${layer + 1}`;
  const point = (x: Float64Array): string => `[${Array.from(x).join(', ')}]`;
  if (r.phase === 'never') process.stdout.write(`${name}: never active (proved: its pre-activation is at most ${r.upper} everywhere)\n`);
  else if (r.phase === 'always') process.stdout.write(`${name}: always active (proved: its pre-activation is at least ${r.lower} everywhere)\n`);
  else if (r.phase === 'both') process.stdout.write(`${name}: both\n  active at x = ${point(r.activeWitness!)}\n  inactive at x = ${point(r.inactiveWitness!)}\n`);
  else process.stdout.write(`${name}: unknown (its pre-activation lies in [${r.lower}, ${r.upper}])\n`);
  process.stderr.write(`(${nBoxes(r.boxes)}, ${(r.timeMs / 1000).toFixed(2)} s)\n`);
  return code;
}

/**
 * The phase census (issue 3's first benchmark as a command): by default the budget of the recorded benchmark
 * (bench/census.ts 4 all 2 64 1.5): the tree's halves 2 s each, then 1.5 s per finishing task.
 */
async function census(net: Network, domain: Box[], values: Record<string, string | boolean | undefined>, modelName: string): Promise<number> {
  if (values.phase !== undefined || values.max !== undefined || values.min !== undefined) fail('give --census alone, without --phase, --max or --min');
  const treeMs = numberOpt(values, 'timeout', 4, 0.01) * 1000;
  const taskMs = numberOpt(values, 'task-timeout', 1.5, 0.01) * 1000;
  const progress = makeProgress(!values.json);
  const t0 = Date.now();
  let c;
  try {
    c = await withRunner(values, ({ workers, size, status }) => phaseCensusParallel(net, domain, {
      boundsFn: boundsFor(net),
      timeoutMs: treeMs,
      finishTaskMs: taskMs,
      onProgress: (done, total, boxes) => progress.update('phase census (neurons decided)', done, total, [`${boxes} boxes`, status()].filter(Boolean).join('  '), (treeMs - (Date.now() - t0)) / 1000),
      onFinishProgress: (done, total, leftMs) => progress.update('phase census (finishing open neurons)', done, total, status(), leftMs / 1000 / size),
    }, workers));
  } finally {
    progress.done();
  }
  const layers = net.layers.slice(0, -1).map((L, k) => {
    const of = (ph: string): number[] => c.neurons.filter((np) => np.layer === k && np.phase === ph).map((np) => np.index);
    return { layer: k + 1, neurons: L.outSize, never: of('never'), always: of('always'), both: of('both').length, unknown: of('unknown') };
  });
  if (typeof values.report === 'string') {
    const phases = net.layers.slice(0, -1).map((L) => new Array<NeuronPhase['phase']>(L.outSize).fill('unknown'));
    for (const np of c.neurons) phases[np.layer][np.index] = np.phase;
    const layersIn = phases.map((ps, k) => ({ name: `layer ${k + 1}`, phases: ps }));
    writeFileAtomic(values.report, censusReport({ model: modelName, kind: 'chain', layers: layersIn, counts: c.counts, boxes: domain.length, timeMs: Date.now() - t0, version: VERSION }));
  }
  if (values.json) {
    const neuron = (np: NeuronPhase) => ({ ...np, layer: np.layer + 1 });
    printJson({ counts: c.counts, boxes: c.boxes, timeMs: Date.now() - t0, layers, neurons: c.neurons.map(neuron) });
    return 0;
  }
  for (const L of layers) {
    // indices in full up to a screenful; a long list (MNIST: 250 never-active neurons of 256) as the ones it leaves out
    const list = (xs: number[]): string => {
      if (!xs.length) return '';
      if (xs.length <= LIST_MAX) return ` (${xs.join(', ')})`;
      const inList = new Set(xs);
      const rest = Array.from({ length: L.neurons }, (_, i) => i).filter((i) => !inList.has(i));
      return rest.length <= LIST_MAX ? ` (all but ${rest.join(', ')})` : '';
    };
    process.stdout.write(`layer ${L.layer}: ${L.neurons} neurons: never active ${L.never.length}${list(L.never)}, always active ${L.always.length}${list(L.always)}, both ${L.both}, unknown ${L.unknown.length}${list(L.unknown)}\n`);
  }
  const k = c.counts;
  if (layers.some((L) => [L.never, L.always, L.unknown].some((xs) => xs.length > LIST_MAX))) process.stdout.write('(--json lists every neuron)\n');
  process.stdout.write(`all: never active ${k.never}, always active ${k.always}, both ${k.both}, unknown ${k.unknown}\n`);
  process.stderr.write(`(${nBoxes(c.boxes)}, ${((Date.now() - t0) / 1000).toFixed(2)} s)\n`);
  if (k.unknown) process.stderr.write('(more time for one undecided neuron: nnshrink bounds MODEL [domain] --phase LAYER:INDEX --timeout S)\n');
  return 0;
}
