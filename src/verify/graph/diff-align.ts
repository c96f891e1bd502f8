/**
 * Two graphs of the same structure (the same operators, attributes, wiring and parameter shapes, node by node; the
 * parameters' values may differ): the pairing the difference bounds walk. Tensor names may differ; they are mapped
 * by position.
 */
import type { Graph, GraphNode, Tensor } from '../../model/graph/types.ts';
import { sameShape } from '../../model/graph/shape.ts';

export type Alignment = { ok: true; pairs: ReadonlyArray<readonly [GraphNode, GraphNode]> } | { ok: false; reason: string };

const sameAttrs = (a: object, b: object): boolean => JSON.stringify(a) === JSON.stringify(b);

function sameParamShapes(a: GraphNode, b: GraphNode): boolean {
  const pa = a.params as Record<string, Tensor>;
  const pb = b.params as Record<string, Tensor>;
  const ka = Object.keys(pa).sort();
  const kb = Object.keys(pb).sort();
  return sameAttrs(ka, kb) && ka.every((k) => sameShape(pa[k].shape, pb[k].shape));
}

/** Pairs f's and g's nodes, or says where the structures part. */
export function alignGraphs(f: Graph, g: Graph): Alignment {
  if (!sameShape(f.input.shape, g.input.shape)) return { ok: false, reason: 'the inputs differ in shape' };
  if (f.nodes.length !== g.nodes.length) return { ok: false, reason: `${f.nodes.length} nodes against ${g.nodes.length}` };
  const toF = new Map<string, string>([[g.input.name, f.input.name]]);
  const pairs: Array<readonly [GraphNode, GraphNode]> = [];
  for (let i = 0; i < f.nodes.length; i++) {
    const a = f.nodes[i];
    const b = g.nodes[i];
    const at = `node ${i} ('${a.name}' / '${b.name}')`;
    if (a.op !== b.op) return { ok: false, reason: `${at}: ${a.op} against ${b.op}` };
    if (!sameAttrs(a.attrs, b.attrs)) return { ok: false, reason: `${at}: the attributes differ` };
    if (!sameParamShapes(a, b)) return { ok: false, reason: `${at}: the parameters differ in shape` };
    if (a.inputs.length !== b.inputs.length || b.inputs.some((t, k) => toF.get(t) !== a.inputs[k])) return { ok: false, reason: `${at}: wired differently` };
    toF.set(b.output, a.output);
    pairs.push([a, b]);
  }
  if (toF.get(g.output.name) !== f.output.name) return { ok: false, reason: 'the outputs are different tensors' };
  return { ok: true, pairs };
}
