/** Interval bounds of every tensor of a graph over an input box: each node's interval rule in topological order. */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import { size } from '../../model/graph/shape.ts';
import type { BackView, Itv, NodeView, TensorBounds } from './types.ts';
import { ruleOf } from './registry.ts';
import { exactItv } from './util.ts';

export function boxItv(g: Graph, box: Box): Itv {
  const n = size(g.input.shape);
  if (box.lo.length !== n || box.hi.length !== n) throw new Error(`internal: a box of ${box.lo.length} values for an input of ${n}`);
  return exactItv(box.lo, box.hi);
}

export function viewOf(g: Graph, b: TensorBounds, n: GraphNode): NodeView {
  return { node: n, inShapes: n.inputs.map((t) => g.shapes.get(t)!), outShape: g.shapes.get(n.output)!, ins: n.inputs.map((t) => b.get(t)!) };
}

export function backViewOf(g: Graph, b: TensorBounds, n: GraphNode): BackView {
  return { ...viewOf(g, b, n), out: b.get(n.output)! };
}

/** One node's interval from the current bounds of its inputs. */
export function nodeInterval(g: Graph, b: TensorBounds, n: GraphNode): Itv {
  return ruleOf(n.op).interval(viewOf(g, b, n));
}

/** Interval bounds of every tensor of a graph over a box. */
export function graphIntervalBounds(g: Graph, box: Box): TensorBounds {
  const b: TensorBounds = new Map([[g.input.name, boxItv(g, box)]]);
  for (const n of g.nodes) b.set(n.output, nodeInterval(g, b, n));
  return b;
}
