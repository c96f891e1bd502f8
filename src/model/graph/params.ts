/**
 * A node's constants as the function uses them. A batchnorm read from a file also keeps its source parameters
 * (gamma, beta, mean, variance: another spelling of its scale and shift, for writing it back), which are not
 * counted again.
 */
import type { Graph, GraphNode, Tensor } from './types.ts';

const BN_SOURCE = new Set(['gamma', 'beta', 'mean', 'variance']);

export function functionParams(n: GraphNode): Tensor[] {
  return Object.entries(n.params as Record<string, Tensor>)
    .filter(([k]) => !(n.op === 'batchnorm' && BN_SOURCE.has(k)))
    .map(([, t]) => t);
}

/** How many constants the graph's function has. */
export const graphParameters = (g: Graph): number => g.nodes.reduce((a, n) => a + functionParams(n).reduce((s, t) => s + t.data.length, 0), 0);
