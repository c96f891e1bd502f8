/**
 * `verify` on graph networks (a CNN's ONNX): the property must fit the graph's flattened input and output, then
 * the graph verifier decides it (decideGraph: ReLU splitting with branch and bound, MILP for what is left; a
 * counterexample re-checked by plain evaluation). Chains never come here: they keep the chain verifier.
 */
import { checkGraphPropertyFits, checkPropertyFits, type VnnProperty } from '../formats/vnnlib.ts';
import type { AnyModel } from '../formats/load.ts';
import type { Graph } from '../model/graph/types.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { decideGraph } from '../verify/property/instance.ts';
import type { PropertyResult } from '../verify/property/property.ts';
import { makeProgress } from './progress.ts';

/** The property against a model of either kind. */
export function checkAnyPropertyFits(m: AnyModel, prop: VnnProperty, propPath: string): void {
  if (m.kind === 'graph') checkGraphPropertyFits(m.graph, prop, propPath);
  else checkPropertyFits(m.model.network, prop, propPath);
}

/** `verify GRAPH PROPERTY`: one search in this thread (the search is a single tree), progress on the terminal. */
export async function verifyGraph(g: Graph, prop: VnnProperty, timeoutMs: number, json: boolean): Promise<PropertyResult> {
  await loadMilpSolver();
  const progress = makeProgress(!json);
  try {
    return decideGraph(g, prop, {
      timeoutMs,
      onProgress: (phase, done, open, leftMs) => progress.update(phase, 0, 0, `${done} nodes bounded, ${open} open`, leftMs / 1000),
    });
  } finally {
    progress.done();
  }
}
