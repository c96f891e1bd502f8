/**
 * Graph nodes with parameters -> ONNX, each written as the graph reader reads it back to the same node: conv as
 * Conv; dense as Gemm (transB = 1) on a vector sample, MatMul then Add on a matrix sample (the reader fuses them);
 * add / sub / mul / div as themselves; affine as Mul (or Div) then Add by constants of the sample's rank (the
 * reader fuses them); batchnorm as BatchNormalization from its source parameters when it has them; prelu as PRelu, or in float64
 * as Max(x, x * s) (onnxruntime has no float64 PRelu; the reader reads that form back as PRelu).
 */
import type { AffineNode, BatchNormNode, BinaryNode, ConvNode, DenseNode, PReluNode, Tensor } from '../../model/graph/types.ts';
import { foldBatchNorm } from './convert-arith.ts';
import { allEqual, internal, intAttr, intsAttr, isTrivial, type OnnxEmitter } from './write-context.ts';

export function writeConv(e: OnnxEmitter, n: ConvNode): void {
  const { weight, bias } = n.params;
  const w = e.floats(`${n.name}.weight`, weight.shape, weight.data);
  const b = e.floats(`${n.name}.bias`, bias.shape, bias.data);
  const a = n.attrs;
  const attrs = [intsAttr('kernel_shape', a.kernel), intsAttr('strides', a.strides), intsAttr('pads', a.pads), intsAttr('dilations', a.dilations), intAttr('group', a.group)];
  e.node('Conv', n.name, [n.inputs[0], w, b], n.output, attrs);
}

/** W^T: the [in, out] matrix MatMul multiplies by, from a dense weight [out, in]. */
function transposedWeight(w: Tensor): Float64Array {
  const [m, k] = w.shape;
  const t = new Float64Array(m * k);
  for (let o = 0; o < m; o++) for (let i = 0; i < k; i++) t[i * m + o] = w.data[o * k + i];
  return t;
}

export function writeDense(e: OnnxEmitter, n: DenseNode): void {
  const { weight, bias } = n.params;
  const [m, k] = weight.shape;
  const x = n.inputs[0];
  if (e.shapeOf(x).length === 1) {
    const w = e.floats(`${n.name}.weight`, weight.shape, weight.data);
    const b = e.floats(`${n.name}.bias`, bias.shape, bias.data);
    e.node('Gemm', n.name, [x, w, b], n.output, [e.floatAttr('alpha', 1, n), e.floatAttr('beta', 1, n), intAttr('transB', 1)]);
    return;
  }
  // a matrix sample: MatMul on the last axis; the bias Add only when there is a bias (the reader fuses it back)
  const w = e.floats(`${n.name}.weight`, [k, m], transposedWeight(weight));
  const noBias = allEqual(bias.data, 0);
  const product = noBias ? n.output : e.fresh(`${n.output}/MatMul`);
  e.node('MatMul', n.name, [x, w], product);
  if (noBias) return;
  const b = e.floats(`${n.name}.bias`, bias.shape, bias.data);
  e.node('Add', e.fresh(`${n.name}/bias`), [product, b], n.output);
}

/**
 * The reader's MatMul by a vector B: a dense [1, k] into `<out>#matmul`, then a reshape dropping the last axis,
 * both named after the MatMul. Written back as that MatMul so that it reads back as the same two nodes.
 */
export function writeMatMulVector(e: OnnxEmitter, d: DenseNode, out: string): void {
  const w = e.floats(`${d.name}.weight`, [d.params.weight.shape[1]], d.params.weight.data);
  e.node('MatMul', d.name, [d.inputs[0], w], out);
}

const BINARY = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' } as const;

export function writeBinary(e: OnnxEmitter, n: BinaryNode): void {
  e.node(BINARY[n.op], n.name, [...n.inputs], n.output);
}

/**
 * A division by constants c, read as the scale 1 / c, has a scale float32 may not hold; written as that Div by c
 * (when c is float32 and 1 / c is the scale exactly) it reads back bit for bit. Undefined when Mul is exact.
 */
function reciprocalDivisor(e: OnnxEmitter, scale: Float64Array): Float64Array | undefined {
  if (e.precision === 'float64' || scale.every((v) => Math.fround(v) === v)) return undefined;
  const c = scale.map((v) => Math.fround(1 / v));
  return c.every((v, i) => v !== 0 && 1 / v === scale[i]) ? c : undefined;
}

/** Mul by the scale (or Div, see reciprocalDivisor), then Add of the shift; a side the reader would make itself (a trivial 1 or 0) is left out. */
export function writeAffine(e: OnnxEmitter, n: AffineNode): void {
  const { scale, shift } = n.params;
  const noShift = isTrivial(shift, 0);
  const noScale = isTrivial(scale, 1) && !noShift;
  let cur = n.inputs[0];
  if (!noScale) {
    const divisor = reciprocalDivisor(e, scale.data);
    const s = divisor ? e.floats(`${n.name}.divisor`, scale.shape, divisor) : e.floats(`${n.name}.scale`, scale.shape, scale.data);
    const out = noShift ? n.output : e.fresh(`${n.output}/${divisor ? 'Div' : 'Mul'}`);
    e.node(divisor ? 'Div' : 'Mul', n.name, [cur, s], out);
    cur = out;
  }
  if (noShift) return;
  const t = e.floats(`${n.name}.shift`, shift.shape, shift.data);
  e.node('Add', noScale ? n.name : e.fresh(`${n.name}/shift`), [cur, t], n.output);
}

/** The parameters written: the source's own when the node has them (checked to fold to its scale and shift). */
function batchNormSource(n: BatchNormNode): { gamma: Float64Array; beta: Float64Array; mean: Float64Array; variance: Float64Array; epsilon: number } {
  const { scale, shift, gamma, beta, mean, variance } = n.params;
  const C = scale.data.length;
  if (!gamma || !beta || !mean || !variance) {
    if (gamma || beta || mean || variance) internal(`node '${n.name}' (batchnorm): some source parameters but not all`);
    return { gamma: scale.data, beta: shift.data, mean: new Float64Array(C), variance: new Float64Array(C).fill(1), epsilon: 0 };
  }
  const epsilon = n.attrs.epsilon ?? 1e-5;
  const fold = foldBatchNorm(gamma.data, beta.data, mean.data, variance.data, epsilon);
  const same = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  if (!same(fold.scale, scale.data) || !same(fold.shift, shift.data)) internal(`node '${n.name}' (batchnorm): its source parameters do not fold to its scale and shift`);
  return { gamma: gamma.data, beta: beta.data, mean: mean.data, variance: variance.data, epsilon };
}

export function writeBatchNorm(e: OnnxEmitter, n: BatchNormNode): void {
  const p = batchNormSource(n);
  const C = [p.gamma.length];
  const ins = [n.inputs[0], e.floats(`${n.name}.gamma`, C, p.gamma), e.floats(`${n.name}.beta`, C, p.beta), e.floats(`${n.name}.mean`, C, p.mean), e.floats(`${n.name}.variance`, C, p.variance)];
  // 1e-5 is ONNX's default and the reader's: left out, it reads back as the same float64 value
  e.node('BatchNormalization', n.name, ins, n.output, p.epsilon === 1e-5 ? [] : [e.floatAttr('epsilon', p.epsilon, n)]);
}

export function writePRelu(e: OnnxEmitter, n: PReluNode): void {
  const { slope } = n.params;
  const s = e.floats(`${n.name}.slope`, slope.shape, slope.data);
  if (e.precision === 'float32' || !slope.data.every((v) => v >= 0 && v <= 1)) {
    e.node('PRelu', n.name, [n.inputs[0], s], n.output);
    return;
  }
  const scaled = e.fresh(`${n.output}/Mul`);
  e.node('Mul', e.fresh(`${n.name}/slope`), [n.inputs[0], s], scaled);
  e.node('Max', n.name, [n.inputs[0], scaled], n.output);
}
