/**
 * Graph -> ONNX, a drop-in replacement of the file the graph came from: the same input and output names, the same
 * batch dimension (symbolic or fixed), the source's opset and element type by default, convolutions kept as Conv.
 * Every graph node is written so that the graph reader reads it back as the same node, so for a graph as the reader
 * makes it, parseOnnxGraph(encodeGraphOnnx(g)) is structurally identical to g (float32 parameters stay bit-exact).
 */
import type { DenseNode, Graph, GraphNode, NodeOfOp, OpName } from '../../model/graph/types.ts';
import { sameShape, size } from '../../model/graph/shape.ts';
import { writeFileAtomic } from '../atomic.ts';
import { encodeModel, ONNX_DOUBLE, ONNX_FLOAT, type OValueInfo } from '../onnx-schema.ts';
import { OPSET_MAX, OPSET_MIN } from '../onnx-read.ts';
import type { Precision } from '../onnx-write.ts';
import { internal, OnnxEmitter } from './write-context.ts';
import { writeAffine, writeBatchNorm, writeBinary, writeConv, writeDense, writeMatMulVector, writePRelu } from './write-nodes.ts';
import {
  writeAvgPool, writeClip, writeConcat, writeGlobalAvgPool, writeLeakyRelu, writeMaxPool, writePad, writeReshape,
  writeSoftmax, writeTranspose, writeUnary,
} from './write-layout.ts';

/** How a graph is written: its precision and opset. */
export interface GraphWriteOptions {
  /** element type of the parameters, input and output (default: the graph's source's, else float32) */
  precision?: Precision;
  /** the opset written (default: the graph's source's, else 17) */
  opset?: number;
  metadata?: Record<string, string>;
  producer?: string;
}

/** The opsets written: those read, so that any file read can be written back at its own opset. */
export const WRITE_OPSET_MIN = OPSET_MIN;
export const WRITE_OPSET_MAX = OPSET_MAX;

type Writer<O extends OpName> = (e: OnnxEmitter, n: NodeOfOp<O>) => void;
const WRITERS: { [O in OpName]: Writer<O> } = {
  conv: writeConv, dense: writeDense, add: writeBinary, sub: writeBinary, mul: writeBinary, div: writeBinary,
  affine: writeAffine, batchnorm: writeBatchNorm, relu: writeUnary, sigmoid: writeUnary, tanh: writeUnary,
  leakyrelu: writeLeakyRelu, prelu: writePRelu, clip: writeClip, maxpool: writeMaxPool, averagepool: writeAvgPool,
  globalaveragepool: writeGlobalAvgPool, concat: writeConcat, reshape: writeReshape, transpose: writeTranspose,
  pad: writePad, softmax: writeSoftmax, logsoftmax: writeSoftmax,
};

/** The lowest IR version that carries each opset, and at least 4 (which lets initializers stay out of the inputs). */
function irVersion(opset: number): number {
  return opset <= 9 ? 4 : opset === 10 ? 5 : opset === 11 ? 6 : opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** Whether nodes i, i+1 are the reader's reading of a MatMul by a vector (see writeMatMulVector). */
function isMatMulVector(g: Graph, i: number, uses: Map<string, number>): boolean {
  const [d, r] = [g.nodes[i], g.nodes[i + 1]];
  if (d.op !== 'dense' || r?.op !== 'reshape' || r.inputs[0] !== d.output || d.output !== `${r.output}#matmul` || r.name !== d.name) return false;
  const xs = g.shapes.get(d.inputs[0])!;
  const k = xs[xs.length - 1];
  const expected = size(xs) === k ? [1] : xs.slice(0, -1);
  return d.params.weight.shape[0] === 1 && d.params.bias.data.every((v) => v === 0) && uses.get(d.output) === 1 && sameShape(r.attrs.shape, expected);
}

function emitNodes(e: OnnxEmitter, g: Graph): void {
  const uses = new Map<string, number>();
  g.nodes.forEach((n) => n.inputs.forEach((t) => uses.set(t, (uses.get(t) ?? 0) + 1)));
  for (let i = 0; i < g.nodes.length; i++) {
    if (isMatMulVector(g, i, uses)) {
      writeMatMulVector(e, g.nodes[i] as DenseNode, g.nodes[i + 1].output);
      i++;
      continue;
    }
    const n: GraphNode = g.nodes[i];
    (WRITERS[n.op] as Writer<typeof n.op>)(e, n as never);
  }
}

function info(name: string, elem: number, batch: number | string, shape: readonly number[]): OValueInfo {
  // a batch the source left unknown ('': neither a size nor a name) stays unknown
  const first = typeof batch === 'number' ? { dim_value: batch } : batch ? { dim_param: batch } : {};
  return { name, type: { tensor_type: { elem_type: elem, shape: { dim: [first, ...shape.map((d) => ({ dim_value: d }))] } } } };
}

/** A graph as ONNX bytes (Conv stays Conv; the source's names, batch dimension, opset and precision). */
export function encodeGraphOnnx(g: Graph, opts: GraphWriteOptions = {}): Uint8Array {
  const precision = opts.precision ?? g.precision ?? 'float32';
  const opset = opts.opset ?? g.opset ?? 17;
  if (!(Number.isInteger(opset) && opset >= WRITE_OPSET_MIN && opset <= WRITE_OPSET_MAX)) internal(`opset ${opset} is not written (${WRITE_OPSET_MIN} to ${WRITE_OPSET_MAX})`);
  const e = new OnnxEmitter(g, precision, opset);
  emitNodes(e, g);
  const elem = precision === 'float32' ? ONNX_FLOAT : ONNX_DOUBLE;
  const batch = g.input.batch;
  return encodeModel({
    ir_version: irVersion(opset),
    producer_name: opts.producer ?? 'nnshrink',
    producer_version: '0.1.0',
    graph: {
      name: 'nnshrink',
      node: e.nodes,
      initializer: e.inits,
      input: [info(g.input.name, elem, batch, g.input.shape)],
      output: [info(g.output.name, elem, batch, g.output.shape)],
    },
    opset_import: [{ domain: '', version: opset }],
    metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
}

/** Written atomically: a failed write leaves what was at `path` before. */
export function writeOnnxGraph(g: Graph, path: string, opts: GraphWriteOptions = {}): void {
  writeFileAtomic(path, encodeGraphOnnx(g, opts));
}
