/**
 * Makes a Graph from its parts and checks it whole: every tensor made once before it is used, every shape inferred
 * by the operator's rule, every constant finite, the output made. The ONNX reader ends here, and so do graphs built
 * in code (tests, demos), so a Graph that exists is consistent.
 */
import { fail, quote } from '../../errors.ts';
import type { Graph, GraphInput, GraphNode, Shape, Tensor } from './types.ts';
import { opDef } from './registry.ts';
import { fmt, size } from './shape.ts';

/** How errors name a node: '<where>: node <name> (<op>)'. */
export const nodeWhere = (where: string, n: { name: string; op: string }): string => `${where}: node ${quote(n.name)} (${n.op})`;

function checkParams(n: GraphNode, at: string): void {
  for (const [key, t] of Object.entries(n.params as Record<string, Tensor | undefined>)) {
    // an optional parameter (a batchnorm's source parameters) may be left undefined
    if (!t) continue;
    if (t.data.length !== size(t.shape)) fail(`${at}: ${key} has ${t.data.length} values for shape ${fmt(t.shape)}`);
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) fail(`${at}: ${key}[${i}] is ${t.data[i]}`);
  }
}

function inferNode(n: GraphNode, shapes: Map<string, Shape>, at: string): Shape {
  const def = opDef(n.op);
  if (def.arity === 'many' ? n.inputs.length < 1 : n.inputs.length !== def.arity) fail(`${at}: takes ${def.arity} data input(s), got ${n.inputs.length}`);
  const ins = n.inputs.map((t) => shapes.get(t) ?? fail(`${at}: input ${quote(t)} is not made by an earlier node nor the graph input`));
  checkParams(n, at);
  const out = (def.infer as (node: GraphNode, s: readonly Shape[]) => Shape | string)(n, ins);
  if (typeof out === 'string') fail(`${at}: ${out}`);
  if (!out.every((d) => Number.isInteger(d) && d >= 1)) fail(`${at}: output shape ${fmt(out)} is empty`);
  return out;
}

export function buildGraph(input: GraphInput, nodes: readonly GraphNode[], output: string, where: string, opset?: number): Graph {
  if (!input.shape.every((d) => Number.isInteger(d) && d >= 1)) fail(`${where}: input ${quote(input.name)} has shape ${fmt(input.shape)}`);
  const shapes = new Map<string, Shape>([[input.name, input.shape]]);
  for (const n of nodes) {
    const at = nodeWhere(where, n);
    const out = inferNode(n, shapes, at);
    if (shapes.has(n.output)) fail(`${at}: output ${quote(n.output)} is made twice`);
    shapes.set(n.output, out);
  }
  const os = shapes.get(output) ?? fail(`${where}: the graph output ${quote(output)} is not made by any node`);
  return { input, output: { name: output, shape: os }, nodes, shapes, opset };
}
