/**
 * The trained CNN as a Graph (conv -> relu -> maxpool -> conv -> relu -> reshape -> dense -> relu -> dense, the
 * logits as output, a symbolic batch) with every parameter rounded to float32, so that the graph is exactly what the
 * float32 ONNX file holds; and that file, written with writeOnnxGraph. Zero stays zero under the rounding, so the
 * proximal step's exact zeros reach the file.
 */
import { buildGraph } from '../../model/graph/build.ts';
import type { Graph, GraphNode, Tensor } from '../../model/graph/types.ts';
import { writeOnnxGraph } from '../../formats/onnx-graph/write.ts';
import { view, type Layout, type Slot } from './net.ts';

const f32 = (params: Float64Array, s: Slot): Tensor => ({ shape: s.shape, data: Float64Array.from(view(params, s), Math.fround) });

export function cnnGraph(l: Layout, params: Float64Array): Graph {
  const [c1, c2, f1, f2] = l.layers;
  const conv = (name: string, x: string, pad: number, w: Slot, b: Slot): GraphNode => ({
    name, op: 'conv', inputs: [x], output: `${name}_out`,
    attrs: { kernel: [3, 3], strides: [1, 1], pads: [pad, pad, pad, pad], dilations: [1, 1], group: 1 },
    params: { weight: f32(params, w), bias: f32(params, b) },
  });
  const relu = (name: string, x: string): GraphNode => ({ name, op: 'relu', inputs: [x], output: `${name}_out`, attrs: {}, params: {} });
  const dense = (name: string, x: string, w: Slot, b: Slot): GraphNode => ({ name, op: 'dense', inputs: [x], output: `${name}_out`, attrs: {}, params: { weight: f32(params, w), bias: f32(params, b) } });
  const nodes: GraphNode[] = [
    conv('conv1', 'input', l.conv1.pad, c1.weight, c1.bias),
    relu('relu1', 'conv1_out'),
    { name: 'pool', op: 'maxpool', inputs: ['relu1_out'], output: 'pool_out', attrs: { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil: false }, params: {} },
    conv('conv2', 'pool_out', l.conv2.pad, c2.weight, c2.bias),
    relu('relu2', 'conv2_out'),
    { name: 'flatten', op: 'reshape', inputs: ['relu2_out'], output: 'flatten_out', attrs: { shape: [l.flat] }, params: {} },
    dense('fc1', 'flatten_out', f1.weight, f1.bias),
    relu('relu3', 'fc1_out'),
    { ...dense('fc2', 'relu3_out', f2.weight, f2.bias), output: 'logits' },
  ];
  const g = buildGraph({ name: 'input', shape: [1, l.arch.size, l.arch.size], batch: 'batch' }, nodes, 'logits', 'trained CNN', 17);
  return { ...g, precision: 'float32' };
}

/** The graph written as float32 ONNX (opset 17, dynamic batch). */
export function writeTrainedCnn(l: Layout, params: Float64Array, path: string, metadata: Record<string, string> = {}): Graph {
  const g = cnnGraph(l, params);
  writeOnnxGraph(g, path, { precision: 'float32', opset: 17, metadata, producer: 'nnshrink-train' });
  return g;
}

/** Per layer: weights exactly 0, output channels (rows) whose weights are all 0, and of how many. */
export function sparsity(l: Layout, params: Float64Array): Array<{ layer: string; zeroWeights: number; weights: number; zeroRows: number; rows: number }> {
  return l.layers.map((layer) => {
    const w = view(params, layer.weight);
    const rows = layer.weight.shape[0];
    const rowLength = w.length / rows;
    let zeroWeights = 0;
    let zeroRows = 0;
    for (let r = 0; r < rows; r++) {
      let zeros = 0;
      for (let i = r * rowLength; i < (r + 1) * rowLength; i++) if (w[i] === 0) zeros++;
      zeroWeights += zeros;
      if (zeros === rowLength) zeroRows++;
    }
    return { layer: layer.name, zeroWeights, weights: w.length, zeroRows, rows };
  });
}
