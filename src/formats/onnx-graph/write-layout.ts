/**
 * Graph nodes without parameters -> ONNX, each as the reader reads it back to the same node, in the encoding of the
 * opset written: activations (Clip's bounds as attributes before opset 11, inputs from 11), pooling, Concat,
 * Reshape (to [-1, ...shape], which keeps the batch whatever it is), Transpose and Pad (per-sample axes shifted past
 * the batch; Pad's pads as attributes before 11, inputs from 11), Softmax / LogSoftmax (whose axis means the
 * flattened axes from it before opset 13 and the one axis from 13: what the opset cannot say is refused).
 */
import type {
  AvgPoolNode, ClipNode, ConcatNode, GlobalAvgPoolNode, LeakyReluNode, MaxPoolNode, PadNode, ReshapeNode,
  SoftmaxNode, TransposeNode, UnaryNode,
} from '../../model/graph/types.ts';
import { internal, intAttr, intsAttr, type OnnxEmitter } from './write-context.ts';

const UNARY = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' } as const;

export function writeUnary(e: OnnxEmitter, n: UnaryNode): void {
  e.node(UNARY[n.op], n.name, [n.inputs[0]], n.output);
}

export function writeLeakyRelu(e: OnnxEmitter, n: LeakyReluNode): void {
  e.node('LeakyRelu', n.name, [n.inputs[0]], n.output, [e.floatAttr('alpha', n.attrs.alpha, n)]);
}

/** An infinite side is left out: the reader's default for it, and ONNX's. */
export function writeClip(e: OnnxEmitter, n: ClipNode): void {
  const { min, max } = n.attrs;
  if (e.opset < 11) {
    const attrs = [...(min > -Infinity ? [e.floatAttr('min', min, n)] : []), ...(max < Infinity ? [e.floatAttr('max', max, n)] : [])];
    e.node('Clip', n.name, [n.inputs[0]], n.output, attrs);
    return;
  }
  const lo = min > -Infinity ? e.floats(`${n.name}.min`, [], [min]) : '';
  const hi = max < Infinity ? e.floats(`${n.name}.max`, [], [max]) : '';
  const ins = hi ? [n.inputs[0], lo, hi] : lo ? [n.inputs[0], lo] : [n.inputs[0]];
  e.node('Clip', n.name, ins, n.output);
}

export function writeMaxPool(e: OnnxEmitter, n: MaxPoolNode): void {
  const a = n.attrs;
  const dilated = a.dilations.some((d) => d !== 1);
  // dilations and ceil_mode exist from opset 10
  if (e.opset < 10 && (dilated || a.ceil)) internal(`node '${n.name}' (maxpool): dilations or ceil_mode cannot be written at opset ${e.opset}`);
  const attrs = [intsAttr('kernel_shape', a.kernel), intsAttr('strides', a.strides), intsAttr('pads', a.pads)];
  if (dilated) attrs.push(intsAttr('dilations', a.dilations));
  if (a.ceil) attrs.push(intAttr('ceil_mode', 1));
  e.node('MaxPool', n.name, [n.inputs[0]], n.output, attrs);
}

export function writeAvgPool(e: OnnxEmitter, n: AvgPoolNode): void {
  const a = n.attrs;
  const attrs = [intsAttr('kernel_shape', a.kernel), intsAttr('strides', a.strides), intsAttr('pads', a.pads), intAttr('count_include_pad', a.countIncludePad ? 1 : 0)];
  e.node('AveragePool', n.name, [n.inputs[0]], n.output, attrs);
}

export function writeGlobalAvgPool(e: OnnxEmitter, n: GlobalAvgPoolNode): void {
  e.node('GlobalAveragePool', n.name, [n.inputs[0]], n.output);
}

export function writeConcat(e: OnnxEmitter, n: ConcatNode): void {
  e.node('Concat', n.name, [...n.inputs], n.output, [intAttr('axis', n.attrs.axis + 1)]);
}

export function writeReshape(e: OnnxEmitter, n: ReshapeNode): void {
  const shape = e.int64s(`${n.name}.shape`, [-1, ...n.attrs.shape]);
  e.node('Reshape', n.name, [n.inputs[0], shape], n.output);
}

export function writeTranspose(e: OnnxEmitter, n: TransposeNode): void {
  e.node('Transpose', n.name, [n.inputs[0]], n.output, [intsAttr('perm', [0, ...n.attrs.perm.map((p) => p + 1)])]);
}

export function writePad(e: OnnxEmitter, n: PadNode): void {
  const { pads, value } = n.attrs;
  const r = pads.length / 2;
  const full = [0, ...pads.slice(0, r), 0, ...pads.slice(r)];
  if (e.opset < 11) {
    e.node('Pad', n.name, [n.inputs[0]], n.output, [intsAttr('pads', full), ...(value !== 0 ? [e.floatAttr('value', value, n)] : [])]);
    return;
  }
  const p = e.int64s(`${n.name}.pads`, full);
  const ins = value !== 0 ? [n.inputs[0], p, e.floats(`${n.name}.value`, [], [value])] : [n.inputs[0], p];
  e.node('Pad', n.name, ins, n.output);
}

/**
 * Before opset 13 the axis normalises the flattened axes from it to the end (toEnd), from 13 the one axis; on the
 * last axis both mean the same. The other combination has no single ONNX node at the opset written: refused.
 */
export function writeSoftmax(e: OnnxEmitter, n: SoftmaxNode): void {
  const { axis, toEnd } = n.attrs;
  const last = axis === e.shapeOf(n.inputs[0]).length - 1;
  const old = e.opset < 13;
  if (!last && toEnd !== old) internal(`node '${n.name}' (${n.op}): a ${toEnd ? 'flattened' : 'one-axis'} ${n.op} on axis ${axis} cannot be written at opset ${e.opset}`);
  e.node(n.op === 'softmax' ? 'Softmax' : 'LogSoftmax', n.name, [n.inputs[0]], n.output, [intAttr('axis', axis + 1)]);
}
