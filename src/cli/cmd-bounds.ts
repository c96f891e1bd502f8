/**
 * nnshrink bounds: the options read, the library's bounds, optimize, neuronPhase or census (src/api/bounds.ts,
 * census.ts) called, the answer printed (and with --census --report, one HTML page written).
 */
import { fail } from '../errors.ts';
import type { Network } from '../model/network.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import { bounds, neuronPhase, optimize, type BoundsMethod, type Objective } from '../api/bounds.ts';
import { makeProgress } from './progress.ts';
import { showing } from './api-progress.ts';
import { anyModelArg, EXIT, finalCheckExit, nBoxes, fmt, jobsOpt, numberOpt, printJson, resolveDomain, resolveGraphDomain, type CommandSpec } from './common.ts';
import { graphBounds } from './graph-bounds.ts';
import { graphCensus } from './graph-census.ts';
import { chainCensus } from './chain-census.ts';
import { checkOutputs } from '../formats/atomic.ts';

type Values = Record<string, string | boolean | undefined>;

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
  async run(values, positionals) {
    if (values.report !== undefined && !values.census) fail('bounds: --report goes with --census');
    const any = anyModelArg(values, positionals, 'bounds');
    // the report's path is checked before any work (written once the census is done)
    if (typeof values.report === 'string') checkOutputs([{ path: values.report, what: '--report', kind: 'file' }], [...positionals.slice(0, 1).map((p) => ({ path: p, what: 'MODEL' })), ...(typeof values.vnnlib === 'string' ? [{ path: values.vnnlib, what: '--vnnlib' }] : [])]);
    if (any.kind === 'graph') return graphBoundsCommand(any.graph, any.path, values);
    const m = any.model;
    const domain = resolveDomain(m, values);
    if (values.census) return chainCensus(m.network, domain, values, m.path);
    if (values.phase !== undefined) return phase(m.network, domain, values);
    if (values.max !== undefined || values.min !== undefined) return optimise(m.network, domain, values);
    const progress = makeProgress(!values.json);
    const r = await bounds(m.network, domain, { method: (values.method ?? 'crown') as BoundsMethod, onProgress: showing(progress) }).finally(() => progress.done());
    if (values.json) {
      printJson({ method: r.method, timeMs: r.timeMs, layers: r.layers });
      return 0;
    }
    r.layers.forEach((L, k) => {
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
    process.stdout.write(`(${r.method}, ${r.timeMs} ms)\n`);
    return 0;
  },
};

/** `bounds` on a graph network: the bounds of its outputs and activation inputs, or the census. */
function graphBoundsCommand(g: Graph, path: string, values: Values): Promise<number> {
  const chainOnly = (['max', 'min', 'phase'] as const).find((k) => values[k] !== undefined);
  if (chainOnly) fail(`--${chainOnly}: not available on graph networks yet (${path} is one); --census gives every ReLU's phase`);
  const domain = resolveGraphDomain(g, path, values);
  if (values.census) return graphCensus(g, path, domain, values);
  return graphBounds(g, path, domain, values).catch(finalCheckExit);
}

/** LAYER:INDEX or LAYER=c1,c2,.. (layers from 1) as the library's objective (layers from 0), checked there. */
export function parseObjective(spec: string, sense: 'max' | 'min', flag: string = sense): Objective {
  const m = /^\s*(\d+)\s*([:=])\s*(.+)$/.exec(spec);
  if (!m) fail(`--${flag}: '${spec}' (expected LAYER:INDEX or LAYER=c1,c2,..)`);
  const layer = Number(m[1]) - 1;
  if (m[2] === ':') {
    if (!/^\d+$/.test(m[3].trim())) fail(`--${flag}: neuron '${m[3]}' of layer ${m[1]} is not a whole number`);
    return { sense, layer, index: Number(m[3]) };
  }
  const coefficients = m[3].split(',').map((p, i) => {
    const v = Number(p);
    if (p.trim() === '' || !Number.isFinite(v)) fail(`--${flag}: coefficient ${i + 1} '${p}' is not a number`);
    return v;
  });
  return { sense, layer, coefficients };
}

async function optimise(net: Network, domain: Box[], values: Values): Promise<number> {
  if (values.max !== undefined && values.min !== undefined) fail('give either --max or --min, not both');
  const flag = values.max !== undefined ? 'max' : 'min';
  const objective = parseObjective(String(values[flag]), flag);
  const progress = makeProgress(!values.json);
  const opts = { timeoutMs: numberOpt(values, 'timeout', 60, 0.01) * 1000, precision: numberOpt(values, 'precision', 1e-3), relativePrecision: numberOpt(values, 'relative-precision', 1e-3), workers: jobsOpt(values), onProgress: showing(progress) };
  const r = await optimize(net, domain, objective, opts).finally(() => progress.done());
  const code = r.status === 'proved' ? EXIT.ok : EXIT.unknown;
  if (values.json) {
    const c = 'coefficients' in objective ? Float64Array.from(objective.coefficients) : Float64Array.from({ length: net.layers[objective.layer].outSize }, (_, i) => (i === objective.index ? 1 : 0));
    printJson({ objective: flag, layer: objective.layer + 1, coefficients: c, ...r });
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

async function phase(net: Network, domain: Box[], values: Values): Promise<number> {
  if (values.max !== undefined || values.min !== undefined) fail('give either --phase or --max / --min, not both');
  const spec = String(values.phase);
  if (!/^\s*\d+\s*:/.test(spec)) fail(`--phase: '${spec}' (expected LAYER:INDEX)`);
  const o = parseObjective(spec, 'max', 'phase') as { layer: number; index: number };
  const progress = makeProgress(!values.json);
  const r = await neuronPhase(net, domain, o, { timeoutMs: numberOpt(values, 'timeout', 60, 0.01) * 1000, workers: jobsOpt(values), onProgress: showing(progress) }).finally(() => progress.done());
  const code = r.phase === 'unknown' ? EXIT.unknown : EXIT.ok;
  if (values.json) {
    printJson({ layer: o.layer + 1, index: o.index, ...r });
    return code;
  }
  const name = `neuron ${o.index} of layer ${o.layer + 1}`;
  const point = (x: Float64Array): string => `[${Array.from(x).join(', ')}]`;
  if (r.phase === 'never') process.stdout.write(`${name}: never active (proved: its pre-activation is at most ${r.upper} everywhere)\n`);
  else if (r.phase === 'always') process.stdout.write(`${name}: always active (proved: its pre-activation is at least ${r.lower} everywhere)\n`);
  else if (r.phase === 'both') process.stdout.write(`${name}: both\n  active at x = ${point(r.activeWitness!)}\n  inactive at x = ${point(r.inactiveWitness!)}\n`);
  else process.stdout.write(`${name}: unknown (its pre-activation lies in [${r.lower}, ${r.upper}])\n`);
  process.stderr.write(`(${nBoxes(r.boxes)}, ${(r.timeMs / 1000).toFixed(2)} s)\n`);
  return code;
}

