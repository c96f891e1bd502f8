/** Small random graphs for tests: seeded tensors and a builder that adds one node per call. */
import { gaussian } from '../../src/model/rng.ts';
import { buildGraph } from '../../src/model/graph/build.ts';
import type { Graph, GraphNode, Shape, Tensor } from '../../src/model/graph/types.ts';
import { size } from '../../src/model/graph/shape.ts';

export type Rng = () => number;

export const tensor = (r: Rng, shape: Shape, scale = 1): Tensor => ({ shape, data: Float64Array.from({ length: size(shape) }, () => scale * gaussian(r)) });

type ConvExtra = Partial<{ strides: [number, number]; pads: [number, number, number, number]; dilations: [number, number]; group: number }>;

/** Builds a graph node by node: each call adds one node and returns its output's name. */
export class GraphBuilder {
  nodes: GraphNode[] = [];
  /** scales: of a conv's weights (gaussian times this) and of conv and dense biases */
  constructor(readonly r: Rng, readonly scales: { convWeight: number; bias: number } = { convWeight: 0.5, bias: 0.2 }) {}
  add(op: string, inputs: string[], attrs: object = {}, params: object = {}): string {
    const output = `t${this.nodes.length}`;
    this.nodes.push({ name: `n${this.nodes.length}`, op, inputs, output, attrs, params } as GraphNode);
    return output;
  }
  conv(x: string, cin: number, cout: number, k = 3, extra: ConvExtra = {}): string {
    const group = extra.group ?? 1;
    const attrs = { kernel: [k, k], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group, ...extra };
    return this.add('conv', [x], attrs, { weight: tensor(this.r, [cout, cin / group, k, k], this.scales.convWeight), bias: tensor(this.r, [cout], this.scales.bias) });
  }
  dense(x: string, nin: number, nout: number): string {
    return this.add('dense', [x], {}, { weight: tensor(this.r, [nout, nin], 1 / Math.sqrt(nin)), bias: tensor(this.r, [nout], this.scales.bias) });
  }
  build(inShape: Shape, out: string): Graph {
    return buildGraph({ name: 'x', shape: inShape, batch: 'batch' }, this.nodes, out, 'test');
  }
}
