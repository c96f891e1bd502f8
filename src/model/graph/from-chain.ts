/**
 * A fully-connected chain (Network) as a Graph, so `equiv` can compare a chain with a graph of the same function:
 * an optional reshape from the other graph's input shape to the flat vector, then per layer a dense node and its
 * activation (relu when every neuron has one, none when none has, else a 0/1 PRelu: slope 0 is a ReLU, 1 the
 * identity), and a reshape to the other graph's output shape if it is not flat. The same numbers as the chain's forward pass (dense then activation, in float64). The converse of chain.ts's graphToChain.
 */
import type { Network } from '../network.ts';
import type { Graph, GraphNode, Shape } from './types.ts';
import { buildGraph } from './build.ts';
import { size } from './shape.ts';

const EMPTY = {} as Record<string, never>;

export function chainAsGraph(net: Network, inputShape: Shape, outputShape: Shape, where: string): Graph {
  const nodes: GraphNode[] = [];
  let cur = 'input';
  const next = (name: string): string => (cur = name);
  if (inputShape.length !== 1 || inputShape[0] !== net.inputSize) {
    if (size(inputShape) !== net.inputSize) throw new Error(`chainAsGraph: input shape of ${size(inputShape)} values for ${net.inputSize} inputs`);
    nodes.push({ name: 'flatten', op: 'reshape', inputs: [cur], output: next('flat'), attrs: { shape: [net.inputSize] }, params: EMPTY });
  }
  net.layers.forEach((L, k) => {
    const weight = { shape: [L.outSize, L.inSize], data: Float64Array.from(L.weights) };
    const bias = { shape: [L.outSize], data: Float64Array.from(L.bias) };
    nodes.push({ name: `dense_${k}`, op: 'dense', inputs: [cur], output: next(`z${k}`), attrs: EMPTY, params: { weight, bias } });
    const relus = L.relu.reduce((s, v) => s + v, 0);
    if (relus === L.outSize) nodes.push({ name: `relu_${k}`, op: 'relu', inputs: [cur], output: next(`h${k}`), attrs: EMPTY, params: EMPTY });
    else if (relus > 0) {
      const slope = { shape: [L.outSize], data: Float64Array.from(L.relu, (r) => (r ? 0 : 1)) };
      nodes.push({ name: `relu_${k}`, op: 'prelu', inputs: [cur], output: next(`h${k}`), attrs: EMPTY, params: { slope } });
    }
  });
  const nOut = net.layers.length ? net.layers[net.layers.length - 1].outSize : net.inputSize;
  if (size(outputShape) !== nOut) throw new Error(`chainAsGraph: output shape of ${size(outputShape)} values for ${nOut} outputs`);
  if (outputShape.length !== 1) nodes.push({ name: 'unflatten', op: 'reshape', inputs: [cur], output: next('output'), attrs: { shape: outputShape }, params: EMPTY });
  return buildGraph({ name: 'input', shape: inputShape, batch: 'batch' }, nodes, cur, where);
}
