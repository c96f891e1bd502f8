/**
 * One VNN-LIB instance (a model file and a property file) decided where it is run: in a worker thread of the pool
 * when `verify --instances` decides a list side by side. Each instance has its own time limit, so its verdict does
 * not depend on how many run at once. A chain (NNet, JSON, a fully-connected ONNX) takes the chain verifier; a graph
 * (a CNN's ONNX) the graph verifier, through decideGraph below.
 */
import { loadAnyModel } from '../../formats/load.ts';
import { isCounterexample, readVnnlib, type VnnProperty } from '../../formats/vnnlib.ts';
import { crownBounds } from '../../bounds/backward.ts';
import { outputLinearLower } from '../../bounds/objective.ts';
import { BoundRefused } from '../../bounds/graph/types.ts';
import type { Graph } from '../../model/graph/types.ts';
import { forwardGraph } from '../../model/graph/forward.ts';
import { decideGraphProperty } from '../graph/property.ts';
import { decideProperty, type PropertyResult } from './property.ts';
import { loadMilpSolver } from '../search/milp.ts';
import { manyInputs } from '../search/split.ts';

export interface InstanceJob {
  model: string;
  property: string;
  timeoutMs: number;
  view?: 'raw' | 'normalized';
}

export async function decideInstance(job: InstanceJob): Promise<PropertyResult> {
  const m = loadAnyModel(job.model, { view: job.view ?? 'raw' });
  const p = readVnnlib(job.property);
  if (m.kind === 'graph') {
    // what ReLU splitting leaves goes to an exact MILP (the solver loads once per thread)
    await loadMilpSolver();
    return decideGraph(m.graph, p, { timeoutMs: job.timeoutMs });
  }
  const net = m.model.network;
  // with many inputs what ReLU splitting leaves goes to an exact MILP (the solver loads once per thread)
  if (manyInputs(net.inputSize)) await loadMilpSolver();
  return decideProperty(net, p, { boundsFn: crownBounds, outputLinearLower, timeoutMs: job.timeoutMs });
}

export type GraphDecideOptions = Parameters<typeof decideGraphProperty>[2];

/**
 * A property of a graph, as every command reports it: a bound the rules refuse on this box (BoundRefused: a divisor
 * whose interval holds 0) leaves it unknown, naming the node; a counterexample is kept only when plain evaluation
 * (forwardGraph) of the stored graph confirms it, with the outputs that evaluation gives (what the results file
 * states is what a checker recomputes); one that does not re-check is reported as unknown, never as sat.
 */
export function decideGraph(g: Graph, prop: VnnProperty, opts: GraphDecideOptions): PropertyResult {
  const t0 = Date.now();
  let r: PropertyResult;
  try {
    r = decideGraphProperty(g, prop, opts);
  } catch (e) {
    if (!(e instanceof BoundRefused)) throw e;
    return { result: 'unknown', boxes: 0, timeMs: Date.now() - t0, reason: `bound refused: ${e.message}` };
  }
  if (r.result !== 'sat') return r;
  const x = Float64Array.from(r.counterexample?.x ?? []);
  const y = x.length === prop.nInputs ? forwardGraph(g, x) : undefined;
  if (!y || !isCounterexample(prop, x, y)) {
    return { result: 'unknown', boxes: r.boxes, timeMs: r.timeMs, reason: 'a counterexample found did not re-check by plain evaluation' };
  }
  return { ...r, counterexample: { x: Array.from(x), y: Array.from(y) } };
}
