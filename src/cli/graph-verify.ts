/**
 * A property against a model of either kind: it must fit the graph's flattened input and output (a CNN's ONNX) or
 * the chain's, before any search (verify, and each row of verify --instances).
 */
import { checkGraphPropertyFits, checkPropertyFits, type VnnProperty } from '../formats/vnnlib.ts';
import type { AnyModel } from '../formats/load.ts';

/** The property against a model of either kind. */
export function checkAnyPropertyFits(m: AnyModel, prop: VnnProperty, propPath: string): void {
  if (m.kind === 'graph') checkGraphPropertyFits(m.graph, prop, propPath);
  else checkPropertyFits(m.model.network, prop, propPath);
}
