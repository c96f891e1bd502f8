/**
 * The graph without a consistent set of channels (channel-fixpoint.ts): reducers lose their dropped filters / rows
 * and their dropped input slices / columns, per-channel parameters lose their dropped channels, a reshape's target
 * shape loses its dropped channels; every name is kept and buildGraph re-infers the shapes.
 */
import { buildGraph } from '../../model/graph/build.ts';
import type { Graph, GraphNode, Shape, Tensor } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import type { NodeLinks } from './channel-links.ts';
import type { Members, Net } from './channel-fixpoint.ts';
import type { ConstSets } from './constants.ts';
import { foldedBias } from './fold-constants.ts';

/** t with only the indices `keep` (ascending) on `axis`; t itself when keep is null (nothing dropped). */
export function selectAxis(t: Tensor, axis: number, keep: readonly number[] | null): Tensor {
  if (!keep) return t;
  const outer = size(t.shape.slice(0, axis));
  const inner = size(t.shape.slice(axis + 1));
  const n = t.shape[axis];
  const data = new Float64Array(outer * keep.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const i of keep) {
      const from = (a * n + i) * inner;
      data.set(t.data.subarray(from, from + inner), o);
      o += inner;
    }
  }
  const shape: Shape = t.shape.map((d, i) => (i === axis ? keep.length : d));
  return { shape, data };
}

type Kept = (tensor: string) => number[] | null;

/** The channels of a tensor of `count` not in keep (ascending). */
const droppedOf = (keep: readonly number[], count: number): number[] => {
  const k = new Set(keep);
  return Array.from({ length: count }, (_, c) => c).filter((c) => !k.has(c));
};

const withParams = (n: GraphNode, params: Record<string, Tensor>): GraphNode => ({ ...n, params }) as GraphNode;

/** batchnorm (scale, shift and any source parameters), affine, prelu: each constant with one entry per channel on
 * axis 0 loses the dropped ones; a constant broadcast on axis 0 (size 1) stays. */
function perChannel(n: GraphNode, channels: number, keep: readonly number[]): GraphNode {
  const params: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(n.params as Record<string, Tensor>)) {
    params[key] = t.shape.length >= 1 && t.shape[0] === channels && channels > 1 ? selectAxis(t, 0, keep) : t;
  }
  return withParams(n, params);
}

function rewriteNode(g: Graph, n: GraphNode, L: NodeLinks, kept: Kept, consts: ConstSets): GraphNode {
  const keepOut = kept(n.output);
  const keepIn = n.inputs.map(kept);
  if (!keepOut && keepIn.every((k) => !k)) return n;
  switch (n.op) {
    case 'conv':
    case 'dense': {
      // a dense on more than one axis is channel-wise (it acts on the last axis): its constants stay
      if (L.kind !== 'reducer') return n;
      const { weight } = n.params;
      const inShape = g.shapes.get(n.inputs[0])!;
      // dropped constant input channels: their terms go into the bias (the consistency rule allows only such
      // reducers: channel-fixpoint.ts absorbsConstants)
      const folded = keepIn[0] ? foldedBias(n, inShape, droppedOf(keepIn[0], inShape[0]), consts.get(n.inputs[0])) : null;
      const bias = folded ? { shape: n.params.bias.shape, data: folded.point } : n.params.bias;
      return withParams(n, { weight: selectAxis(selectAxis(weight, 0, keepOut), 1, keepIn[0]), bias: selectAxis(bias, 0, keepOut) });
    }
    case 'batchnorm':
    case 'affine':
    case 'prelu':
      return keepOut ? perChannel(n, g.shapes.get(n.output)![0], keepOut) : n;
    case 'reshape':
      return keepOut ? { ...n, attrs: { shape: [keepOut.length, ...n.attrs.shape.slice(1)] } } : n;
    default:
      return n;
  }
}

/** g without the channels of d, the constant ones (consts) folded into their consumers' biases; the graph's other
 * fields (opset, precision, ...) kept. */
export function rewriteGraph(net: Net, d: Members, consts: ConstSets = new Map()): Graph {
  const g = net.g;
  const kept: Kept = (t) => {
    const f = d.get(t);
    if (!f || !f.includes(1)) return null;
    const keep: number[] = [];
    f.forEach((v, c) => v || keep.push(c));
    return keep;
  };
  const nodes = g.nodes.map((n, i) => rewriteNode(g, n, net.links[i], kept, consts));
  let built: Graph;
  try {
    built = buildGraph(g.input, nodes, g.output.name, 'removeChannels', g.opset);
  } catch (e) {
    throw new Error(`internal: removeChannels made an inconsistent graph: ${(e as Error).message}`);
  }
  return { ...g, ...built };
}
