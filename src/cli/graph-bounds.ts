/**
 * `bounds` on a graph network: the library's bounds (src/api/bounds-graph.ts: the output and every ReLU-like
 * node's input over the domain, by interval, CROWN, or CROWN with optimised slopes for each output) printed.
 */
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import { bounds, type BoundsMethod } from '../api/bounds.ts';
import { makeProgress } from './progress.ts';
import { showing } from './api-progress.ts';
import { fmt, printJson } from './common.ts';

/** the most output elements the text lists (--json lists all) */
const SHOW_OUTPUTS = 32;

export async function graphBounds(g: Graph, path: string, domain: Box[], values: Record<string, unknown>): Promise<number> {
  const json = values.json === true;
  const progress = makeProgress(!json);
  const r = await bounds(g, domain, { method: values.method as BoundsMethod | undefined, name: path, onProgress: showing(progress) }).finally(() => progress.done());
  const { method, output: outs, activations: acts } = r;
  if (json) {
    printJson({ method, timeMs: r.timeMs, boxes: r.boxes, output: outs, activations: acts });
    return 0;
  }
  const w = process.stdout;
  w.write(`output '${outs.name}' [${outs.shape.join(', ')}]:\n`);
  const show = Math.min(outs.lo.length, SHOW_OUTPUTS);
  for (let i = 0; i < show; i++) w.write(`  ${i}: [${fmt(outs.lo[i], 6)}, ${fmt(outs.hi[i], 6)}]\n`);
  if (show < outs.lo.length) w.write(`  (${outs.lo.length - show} more: --json lists them)\n`);
  let unstable = 0;
  let neurons = 0;
  for (const a of acts) {
    unstable += a.unstable;
    neurons += a.neurons;
    w.write(`${a.node} (${a.op}) input [${a.shape.join(', ')}]: ${a.neurons} neurons, unstable ${a.unstable} (in ${a.unstableChannels} of ${a.channels} channels), never active ${a.inactive}, always active ${a.active}, mean width ${fmt(a.meanWidth)}\n`);
  }
  if (acts.length) w.write(`all: ${neurons} neurons, unstable ${unstable}\n`);
  w.write(`(${method}${method === 'alpha' ? ': CROWN, then optimised slopes for each output' : ''}, ${r.timeMs} ms)\n`);
  return 0;
}
