/**
 * Network -> ONNX (IR 8, opset 13) that onnxruntime runs: per layer a Gemm (weights out x in, transB = 1), then Relu
 * when all its neurons are ReLU, nothing when all linear, and for a mixed layer y = Max(z, z * s) with s = 0 for a
 * ReLU neuron and 1 for a linear one (exact in floating point; PRelu would do too but onnxruntime has no float64
 * PRelu). Weights in float32 (default) or float64. The domain is stored in metadata_props "nnshrink.domain".
 */
import type { Network } from '../model/network.ts';
import { boxToJSON } from '../model/box.ts';
import type { SaveOptions } from './model-file.ts';
import { writeFileAtomic } from './atomic.ts';
import {
  ATTR_INT,
  encodeModel,
  ONNX_DOUBLE,
  ONNX_FLOAT,
  ONNX_INT64,
  type OGraph,
  type ONode,
  type OTensor,
  type OValueInfo,
} from './onnx-schema.ts';

export type Precision = 'float32' | 'float64';

export function floatTensor(name: string, dims: number[], data: ArrayLike<number>, precision: Precision): OTensor {
  const bytes =
    precision === 'float32' ? new Uint8Array(Float32Array.from(data).buffer) : new Uint8Array(Float64Array.from(data).buffer);
  return { name, dims, data_type: precision === 'float32' ? ONNX_FLOAT : ONNX_DOUBLE, raw_data: bytes };
}

export function int64Tensor(name: string, dims: number[], data: number[]): OTensor {
  return { name, dims, data_type: ONNX_INT64, int64_data: data };
}

export function valueInfo(name: string, elemType: number, dims: number[]): OValueInfo {
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}

/**
 * The nodes computing `net` from tensor `input` (shape [1, n]) to tensor `output` (shape [1, m]); names are prefixed
 * so several networks can live in one model (the slice family's If branches).
 */
export function networkNodes(
  net: Network,
  input: string,
  output: string,
  prefix: string,
  precision: Precision,
): { nodes: ONode[]; initializers: OTensor[] } {
  const nodes: ONode[] = [];
  const inits: OTensor[] = [];
  let cur = input;
  net.layers.forEach((L, k) => {
    const last = k === net.layers.length - 1;
    const w = `${prefix}W${k}`;
    const b = `${prefix}B${k}`;
    inits.push(floatTensor(w, [L.outSize, L.inSize], L.weights, precision));
    inits.push(floatTensor(b, [L.outSize], L.bias, precision));
    const nRelu = L.relu.reduce((s, r) => s + r, 0);
    const gemmOut = last && nRelu === 0 ? output : `${prefix}z${k}`;
    nodes.push({
      op_type: 'Gemm',
      name: `${prefix}gemm${k}`,
      input: [cur, w, b],
      output: [gemmOut],
      attribute: [{ name: 'transB', i: 1, type: ATTR_INT }],
    });
    cur = gemmOut;
    if (nRelu === 0) return;
    const actOut = last ? output : `${prefix}a${k}`;
    if (nRelu === L.outSize) {
      nodes.push({ op_type: 'Relu', name: `${prefix}relu${k}`, input: [cur], output: [actOut] });
    } else {
      const s = `${prefix}S${k}`;
      inits.push(floatTensor(s, [L.outSize], Array.from(L.relu, (r) => (r ? 0 : 1)), precision));
      nodes.push({ op_type: 'Mul', name: `${prefix}mask${k}`, input: [cur, s], output: [`${prefix}m${k}`] });
      nodes.push({ op_type: 'Max', name: `${prefix}max${k}`, input: [cur, `${prefix}m${k}`], output: [actOut] });
    }
    cur = actOut;
  });
  return { nodes, initializers: inits };
}

export function onnxBytes(net: Network, opts: SaveOptions = {}): Uint8Array {
  const precision = opts.precision ?? 'float32';
  const elem = precision === 'float32' ? ONNX_FLOAT : ONNX_DOUBLE;
  const n = net.inputSize;
  const m = net.layers[net.layers.length - 1].outSize;
  const shape = opts.inputShape && opts.inputShape.reduce((a, b) => a * b, 1) === n ? opts.inputShape : [1, n];
  const nodes: ONode[] = [];
  let first = 'input';
  if (shape.length !== 2 || shape[0] !== 1) {
    nodes.push({ op_type: 'Flatten', name: 'flatten', input: ['input'], output: ['x'], attribute: [{ name: 'axis', i: 1, type: ATTR_INT }] });
    first = 'x';
  }
  const body = networkNodes(net, first, 'output', '', precision);
  nodes.push(...body.nodes);
  const graph: OGraph = {
    name: 'nnshrink',
    node: nodes,
    initializer: body.initializers,
    input: [valueInfo('input', elem, shape)],
    output: [valueInfo('output', elem, [1, m])],
  };
  return encodeGraph(graph, opts.domain ? { 'nnshrink.domain': JSON.stringify(boxToJSON(opts.domain)) } : {});
}

/** A model around a graph: IR 8, opset 13, producer nnshrink, with string metadata. */
export function encodeGraph(graph: OGraph, metadata: Record<string, string>): Uint8Array {
  return encodeModel({
    ir_version: 8,
    producer_name: 'nnshrink',
    producer_version: '0.1.0',
    graph,
    opset_import: [{ domain: '', version: 13 }],
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
}

export function writeOnnx(net: Network, path: string, opts: SaveOptions = {}): void {
  writeFileAtomic(path, onnxBytes(net, opts));
}
