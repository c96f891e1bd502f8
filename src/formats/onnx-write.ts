/**
 * Network -> ONNX (IR 8, opset 13; or a source file's names, batch and opset: a drop-in replacement) that
 * onnxruntime runs: per layer a Gemm (weights out x in, transB = 1), then Relu
 * when all its neurons are ReLU, nothing when all linear, and for a mixed layer y = Max(z, z * s) with s = 0 for a
 * ReLU neuron and 1 for a linear one (exact in floating point; PRelu would do too but onnxruntime has no float64
 * PRelu). Weights in float32 (default) or float64. The domain is stored in metadata_props "nnshrink.domain".
 */
import type { Network } from '../model/network.ts';
import { boxToJSON } from '../model/box.ts';
import type { OnnxSource, SaveOptions } from './model-file.ts';
import { fail, quote } from '../errors.ts';
import { BATCH_ONNX_KEY, OPSET_MAX, OPSET_MIN } from './onnx-read.ts';
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
  const metadata: Record<string, string> = opts.domain ? { 'nnshrink.domain': JSON.stringify(boxToJSON(opts.domain)) } : {};
  if (opts.source) {
    // the sample's shape without the batch: the shape given when it holds the n inputs, else [n]
    const sample = opts.inputShape && opts.inputShape.length >= 2 && opts.inputShape.slice(1).reduce((a, b) => a * b, 1) === n ? opts.inputShape.slice(1) : [n];
    if (typeof opts.source.batch === 'number' && opts.source.batch !== 1) metadata[BATCH_ONNX_KEY] = String(opts.source.batch);
    return sourceBytes(net, opts.source, sample, precision, metadata);
  }
  const nodes: ONode[] = [];
  let first = 'input';
  if (shape.length !== 2 || shape[0] !== 1) {
    nodes.push(flattenNode('input', 'x'));
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
  return encodeGraph(graph, metadata);
}

const flattenNode = (input: string, output: string): ONode => ({
  op_type: 'Flatten',
  name: 'flatten',
  input: [input],
  output: [output],
  attribute: [{ name: 'axis', i: 1, type: ATTR_INT }],
});

/**
 * A drop-in replacement for `source`: its input and output names, its batch dimension (a size or a symbolic name:
 * Flatten axis 1 and Gemm keep any batch) and its opset where onnxruntime runs the nodes written at it. Input
 * [batch, ...sample], output [batch, m]. Internal tensor names take a prefix when one would be the source's name.
 */
function sourceBytes(net: Network, source: OnnxSource, sample: number[], precision: Precision, metadata: Record<string, string>): Uint8Array {
  const { inputName, outputName } = source;
  if (inputName === outputName) fail(`writing ONNX: the source's input and output are both named ${quote(inputName)}`);
  for (let prefix = ''; ; prefix += 'nnshrink_') {
    const nodes: ONode[] = [];
    let first = inputName;
    if (sample.length !== 1) {
      first = `${prefix}x`;
      nodes.push(flattenNode(inputName, first));
    }
    const body = networkNodes(net, first, outputName, prefix, precision);
    nodes.push(...body.nodes);
    const made = [...nodes.flatMap((q) => q.output ?? []), ...body.initializers.map((t) => t.name ?? '')];
    if (made.includes(inputName) || made.filter((t) => t === outputName).length !== 1) continue;
    const elem = precision === 'float32' ? ONNX_FLOAT : ONNX_DOUBLE;
    const dim = (d: number | string) => (typeof d === 'number' ? { dim_value: d } : d ? { dim_param: d } : {});
    const info = (name: string, dims: Array<number | string>): OValueInfo => ({ name, type: { tensor_type: { elem_type: elem, shape: { dim: dims.map(dim) } } } });
    const graph: OGraph = {
      name: 'nnshrink',
      node: nodes,
      initializer: body.initializers,
      input: [info(inputName, [source.batch, ...sample])],
      output: [info(outputName, [source.batch, net.layers[net.layers.length - 1].outSize])],
    };
    return encodeGraph(graph, metadata, writtenOpset(source.opset, precision, nodes));
  }
}

/**
 * The opset declared for a source's `opset`: its own when onnxruntime runs every node written at it. All of Gemm,
 * Relu, Mul, Max and Flatten exist at opsets 7 to 22 (what the readers take), but onnxruntime has no float64 kernel
 * for Max before Max-8, so a float64 file with a mixed layer at opset 7 declares 8, the nearest that runs. Above
 * OPSET_MAX, the newest the readers vouch for.
 */
export function writtenOpset(opset: number, precision: Precision, nodes: readonly ONode[]): number {
  const least = precision === 'float64' && nodes.some((q) => q.op_type === 'Max') ? 8 : OPSET_MIN;
  return Math.min(Math.max(opset, least), OPSET_MAX);
}

/**
 * The IR version to declare with an opset: 8 (nnshrink's files since the start) up to opset 18, then that of the
 * ONNX release which introduced the opset (1.14: IR 9 with opset 19; 1.16: IR 10 with opset 21). onnxruntime-node
 * 1.30 runs these files whatever IR they declare (checked from IR 3 to 11, opsets 7 to 23), but other tools check
 * the IR against the opset.
 */
export function irVersionFor(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** A model around a graph: IR 8 (or newer for a newer opset), opset 13 unless told, producer nnshrink, with string metadata. */
export function encodeGraph(graph: OGraph, metadata: Record<string, string>, opset = 13): Uint8Array {
  return encodeModel({
    ir_version: irVersionFor(opset),
    producer_name: 'nnshrink',
    producer_version: '0.1.0',
    graph,
    opset_import: [{ domain: '', version: opset }],
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
}

export function writeOnnx(net: Network, path: string, opts: SaveOptions = {}): void {
  writeFileAtomic(path, onnxBytes(net, opts));
}
