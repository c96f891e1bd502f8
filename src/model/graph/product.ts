/**
 * Two graphs with the same input and output shapes as ONE graph on a shared input, so that a question about f and g
 * together (equivalence) is a question about one graph that the bounds and the searches answer, and the bounds keep
 * the correlation of f and g through their shared input. f's tensors and nodes are prefixed 'f/', g's 'g/'; the few
 * nodes added have names without either prefix, so they meet no name of f or g.
 */
import { fail } from '../../errors.ts';
import type { Graph, GraphNode } from './types.ts';
import { buildGraph } from './build.ts';
import { fmt, sameShape, size } from './shape.ts';

export const F_PREFIX = 'f/';
export const G_PREFIX = 'g/';
/** the shared input's name (no prefixed name can equal it) */
export const PRODUCT_INPUT = 'x';

/** g's nodes with every tensor and node name prefixed, its input renamed to the shared one. */
function renamed(g: Graph, prefix: string): GraphNode[] {
  const t = (name: string): string => (name === g.input.name ? PRODUCT_INPUT : prefix + name);
  return g.nodes.map((n) => ({ ...n, name: prefix + n.name, inputs: n.inputs.map(t), output: t(n.output) }) as GraphNode);
}

function sameInterface(f: Graph, g: Graph, what: string): void {
  if (!sameShape(f.input.shape, g.input.shape)) fail(`${what}: the inputs differ in shape, ${fmt(f.input.shape)} against ${fmt(g.input.shape)}`);
  if (size(f.output.shape) !== size(g.output.shape) || !sameShape(f.output.shape, g.output.shape)) {
    fail(`${what}: the outputs differ in shape, ${fmt(f.output.shape)} against ${fmt(g.output.shape)}`);
  }
}

function bothSides(f: Graph, g: Graph): GraphNode[] {
  return [...renamed(f, F_PREFIX), ...renamed(g, G_PREFIX)];
}

/** The output tensor's name of a side in the product graph (a graph output may be its input: an empty graph). */
export const sideOutput = (side: Graph, prefix: string): string => (side.output.name === side.input.name ? PRODUCT_INPUT : prefix + side.output.name);

/** x -> f(x) - g(x), of f's output shape. */
export function productGraph(f: Graph, g: Graph): Graph {
  sameInterface(f, g, 'product graph');
  const diff: GraphNode = { name: 'f-g', op: 'sub', inputs: [sideOutput(f, F_PREFIX), sideOutput(g, G_PREFIX)], output: 'f-g', attrs: {}, params: {} };
  return buildGraph({ ...f.input, name: PRODUCT_INPUT }, [...bothSides(f, g), diff], 'f-g', 'product graph');
}

/** x -> [f(x); g(x)] flattened: 2m outputs, f's first (class questions combine f's and g's scores). */
export function stackedGraph(f: Graph, g: Graph): Graph {
  sameInterface(f, g, 'stacked graph');
  const m = size(f.output.shape);
  const flat = (side: Graph, prefix: string): GraphNode => ({ name: `${prefix[0]};flat`, op: 'reshape', inputs: [sideOutput(side, prefix)], output: `${prefix[0]};flat`, attrs: { shape: [m] }, params: {} });
  const cat: GraphNode = { name: 'f;g', op: 'concat', inputs: ['f;flat', 'g;flat'], output: 'f;g', attrs: { axis: 0 }, params: {} };
  return buildGraph({ ...f.input, name: PRODUCT_INPUT }, [...bothSides(f, g), flat(f, F_PREFIX), flat(g, G_PREFIX), cat], 'f;g', 'stacked graph');
}
