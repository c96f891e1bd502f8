/** Forward evaluation of a graph on a batch: each node's kernel in order, tensors dropped after their last use. */
import type { Graph, GraphNode, Shape } from './types.ts';
import { opDef } from './registry.ts';
import { size } from './shape.ts';

type Forward = (n: GraphNode, ins: readonly Float64Array[], inShapes: readonly Shape[], os: Shape, batch: number) => Float64Array;

/** Evaluates one node on its input tensors. */
export function forwardNode(g: Graph, n: GraphNode, inputs: readonly Float64Array[], batch: number): Float64Array {
  const f = opDef(n.op).forward as Forward;
  return f(n, inputs, n.inputs.map((t) => g.shapes.get(t)!), g.shapes.get(n.output)!, batch);
}

function checkInput(g: Graph, x: Float64Array, batch: number): void {
  if (!(Number.isInteger(batch) && batch >= 1) || x.length !== batch * size(g.input.shape)) {
    throw new Error(`internal: forwardGraph given ${x.length} values for a batch of ${batch} x ${size(g.input.shape)}`);
  }
}

/** Every tensor's value on the batch x ([batch, ...input shape] row-major), by name. */
export function forwardAll(g: Graph, x: Float64Array, batch: number): Map<string, Float64Array> {
  checkInput(g, x, batch);
  const vals = new Map<string, Float64Array>([[g.input.name, x]]);
  for (const n of g.nodes) vals.set(n.output, forwardNode(g, n, n.inputs.map((t) => vals.get(t)!), batch));
  return vals;
}

/** The output on the batch x: [batch, ...output shape] row-major. */
export function forwardGraph(g: Graph, x: Float64Array, batch = 1): Float64Array {
  checkInput(g, x, batch);
  const last = new Map<string, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((t) => last.set(t, i)));
  const vals = new Map<string, Float64Array>([[g.input.name, x]]);
  g.nodes.forEach((n, i) => {
    vals.set(n.output, forwardNode(g, n, n.inputs.map((t) => vals.get(t)!), batch));
    for (const t of n.inputs) if (last.get(t) === i && t !== g.output.name) vals.delete(t);
  });
  return vals.get(g.output.name)!;
}
