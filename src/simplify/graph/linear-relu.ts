/**
 * ReLU nodes that are the identity on the domain: the census proves every element of the input always active
 * (never below the kink), so relu(x) = x there and the node can go, its readers reading its input instead. ONNX
 * has no per-channel ReLU, so only a whole node goes; the graph output's own node stays (its name is the file's).
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import type { GraphCensus } from '../../verify/graph/census.ts';
import { buildGraph } from '../../model/graph/build.ts';

/** The relu nodes of g whose every input element the census proved always active (not the output's node). */
export function linearReluNodes(g: Graph, census: GraphCensus): string[] {
  const relus = new Map(g.nodes.filter((n) => n.op === 'relu' && n.output !== g.output.name).map((n) => [n.name, n]));
  return census.layers.filter((l) => relus.has(l.node) && l.phases.length > 0 && l.phases.every((p) => p === 'always')).map((l) => l.node);
}

/** g without the named relu nodes, each reader of one's output reading its input; every other name kept. */
export function dropNodes(g: Graph, names: readonly string[]): Graph {
  if (names.length === 0) return g;
  const drop = new Set(names);
  const rename = new Map<string, string>();
  const nodes: GraphNode[] = [];
  for (const n of g.nodes) {
    const inputs = n.inputs.map((t) => rename.get(t) ?? t);
    if (drop.has(n.name)) {
      if (n.op !== 'relu' || n.output === g.output.name) throw new Error(`internal: dropNodes: ${n.name} is not a relu inside the graph`);
      rename.set(n.output, inputs[0]);
      continue;
    }
    nodes.push({ ...n, inputs });
  }
  return { ...g, ...buildGraph(g.input, nodes, g.output.name, 'dropNodes', g.opset) };
}

/** The relu nodes of f that g (its prune) does not have, by name: the ones the prune claims linear. */
export const droppedRelus = (f: Graph, g: Graph): string[] => {
  const kept = new Set(g.nodes.map((n) => n.name));
  return f.nodes.filter((n) => n.op === 'relu' && !kept.has(n.name)).map((n) => n.name);
};
