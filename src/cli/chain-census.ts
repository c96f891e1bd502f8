/**
 * `bounds --census` on a chain: the library's census (src/api/census.ts) on --jobs threads or the job queue, every
 * layer's never / always active neurons printed (and with --report, the map of every neuron by phase written). By
 * default the budget of the recorded benchmark (bench/census.ts 4 all 2 64 1.5): the tree's halves 2 s each, then
 * 1.5 s per finishing task.
 */
import { fail } from '../errors.ts';
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NeuronPhase, PhaseCensus } from '../verify/phase/phase.ts';
import { census } from '../api/census.ts';
import { makeProgress } from './progress.ts';
import { showing } from './api-progress.ts';
import { withRunner } from './queue-run.ts';
import { nBoxes, numberOpt, printJson } from './common.ts';
import { writeFileAtomic } from '../formats/atomic.ts';
import { censusReport } from '../report/census.ts';
import { VERSION } from '../version.ts';

/** the longest list of neuron indices the census's text output prints */
const LIST_MAX = 24;

type Values = Record<string, string | boolean | undefined>;

function reportOf(net: Network, c: PhaseCensus, model: string, boxes: number, timeMs: number): string {
  const phases = net.layers.slice(0, -1).map((L) => new Array<NeuronPhase['phase']>(L.outSize).fill('unknown'));
  for (const np of c.neurons) phases[np.layer][np.index] = np.phase;
  const layers = phases.map((ps, k) => ({ name: `layer ${k + 1}`, phases: ps }));
  return censusReport({ model, kind: 'chain', layers, counts: c.counts, boxes, timeMs, version: VERSION });
}

export async function chainCensus(net: Network, domain: Box[], values: Values, modelName: string): Promise<number> {
  if (values.phase !== undefined || values.max !== undefined || values.min !== undefined) fail('give --census alone, without --phase, --max or --min');
  const timeoutMs = numberOpt(values, 'timeout', 4, 0.01) * 1000;
  const finishTaskMs = numberOpt(values, 'task-timeout', 1.5, 0.01) * 1000;
  const progress = makeProgress(!values.json);
  const t0 = Date.now();
  const c = await withRunner(values, ({ workers, status }) => census(net, domain, { timeoutMs, finishTaskMs, workers, onProgress: showing(progress, status) })).finally(() => progress.done());
  const layers = net.layers.slice(0, -1).map((L, k) => {
    const of = (ph: string): number[] => c.neurons.filter((np) => np.layer === k && np.phase === ph).map((np) => np.index);
    return { layer: k + 1, neurons: L.outSize, never: of('never'), always: of('always'), both: of('both').length, unknown: of('unknown') };
  });
  if (typeof values.report === 'string') writeFileAtomic(values.report, reportOf(net, c, modelName, domain.length, Date.now() - t0));
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
