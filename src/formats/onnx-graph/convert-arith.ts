/**
 * ONNX Add / Sub / Mul / Div (two data tensors, or data and a constant: an affine node), BatchNormalization (a
 * per-channel affine folded at load), PRelu, and nnshrink's own Max(z, z * s) as a PRelu with slope s.
 */
import { fail } from '../../errors.ts';
import type { AffineNode, Shape, Tensor } from '../../model/graph/types.ts';
import { fmt, padRank, size } from '../../model/graph/shape.ts';
import { fitsUnder } from '../../model/graph/ops/affine.ts';
import * as A from './attrs.ts';
import type { Const } from './reader.ts';
import type { Converter } from './reader.ts';

/** A constant that broadcasts to data of per-sample shape xs, as a tensor of xs's rank (its batch axis, if any, 1). */
export function constToSample(c: Const, xs: Shape, at: string, what: string): Tensor {
  let s = c.shape;
  if (s.length === xs.length + 1) {
    if (s[0] !== 1) fail(`${at}: ${what} of shape ${fmt(s)} differs along the batch axis`);
    s = s.slice(1);
  }
  const shape = padRank(s, xs.length);
  if (s.length > xs.length || !fitsUnder(shape, xs)) fail(`${at}: ${what} of shape ${fmt(c.shape)} does not broadcast to the data's shape [batch,${xs.join(',')}] (it may not enlarge it)`);
  return { shape, data: c.data };
}

const ones = (rank: number): Tensor => ({ shape: new Array<number>(rank).fill(1), data: Float64Array.of(1) });
const zeros = (rank: number): Tensor => ({ shape: new Array<number>(rank).fill(1), data: Float64Array.of(0) });

function affineOf(op: string, c: Tensor, dataFirst: boolean, rank: number, at: string): Pick<AffineNode['params'], 'scale' | 'shift'> {
  const neg = { shape: c.shape, data: c.data.map((v) => -v) };
  switch (op) {
    case 'Add':
      return { scale: ones(rank), shift: c };
    case 'Sub':
      return dataFirst ? { scale: ones(rank), shift: neg } : { scale: { shape: ones(rank).shape, data: Float64Array.of(-1) }, shift: c };
    case 'Mul':
      return { scale: c, shift: zeros(rank) };
    default:
      if (!dataFirst) fail(`${at}: a constant divided by the data is not supported (not affine)`);
      if (c.data.some((v) => v === 0)) fail(`${at}: division by a constant that holds 0`);
      return { scale: { shape: c.shape, data: c.data.map((v) => 1 / v) }, shift: zeros(rank) };
  }
}

const arith: Converter = (r, n, at, name) => {
  const op = n.op_type!;
  const [a, b] = [n.input?.[0] ?? '', n.input?.[1] ?? ''];
  const out = n.output![0];
  if (!r.isConst(a) && !r.isConst(b)) {
    const [ta] = r.dataOf(a, at);
    const [tb] = r.dataOf(b, at);
    const bop = op === 'Add' ? 'add' : op === 'Sub' ? 'sub' : op === 'Mul' ? 'mul' : 'div';
    r.emit({ name, op: bop, inputs: [ta, tb], output: out, attrs: {}, params: {} }, at);
    return;
  }
  const dataFirst = !r.isConst(a);
  const [x, xs] = r.dataOf(dataFirst ? a : b, at);
  const c = constToSample(r.constOf(dataFirst ? b : a, at), xs, at, 'constant');
  r.emit({ name, op: 'affine', inputs: [x], output: out, attrs: {}, params: affineOf(op, c, dataFirst, xs.length, at) }, at);
};

/** BatchNormalization's folded scale and shift; the writer checks a node's source parameters against it. */
export function foldBatchNorm(g: Float64Array, beta: Float64Array, mean: Float64Array, vr: Float64Array, eps: number): { scale: Float64Array; shift: Float64Array } {
  const scale = g.map((v, c) => v / Math.sqrt(vr[c] + eps));
  const shift = beta.map((v, c) => v - mean[c] * scale[c]);
  return { scale, shift };
}

/** Folded into scale and shift; the source's own parameters are kept beside them, so writing back is exact. */
const batchNorm: Converter = (r, n, at, name) => {
  const [x, xs] = r.dataOf(n.input?.[0], at, 'input');
  if (r.opset < 9 && A.int(n, 'spatial', 1, at) !== 1) fail(`${at}: spatial 0 is not supported`);
  if (A.int(n, 'training_mode', 0, at) !== 0) fail(`${at}: training_mode 1 is not supported (inference only)`);
  const [g, beta, mean, vr] = ['scale', 'B', 'mean', 'var'].map((w, i) => r.constOf(n.input?.[i + 1], at, w).data);
  const epsilon = A.float(n, 'epsilon', 1e-5);
  const C = xs[0];
  if (![g, beta, mean, vr].every((v) => v.length === C)) fail(`${at}: parameters of sizes ${[g, beta, mean, vr].map((v) => v.length).join(',')} for ${C} channels`);
  const { scale, shift } = foldBatchNorm(g, beta, mean, vr, epsilon);
  const t = (data: Float64Array) => ({ shape: [C], data });
  const params = { scale: t(scale), shift: t(shift), gamma: t(g), beta: t(beta), mean: t(mean), variance: t(vr) };
  r.emit({ name, op: 'batchnorm', inputs: [x], output: n.output![0], attrs: { epsilon }, params }, at);
};

const pRelu: Converter = (r, n, at, name) => {
  const [x, xs] = r.dataOf(n.input?.[0], at, 'input');
  const slope = constToSample(r.constOf(n.input?.[1], at, 'slope'), xs, at, 'slope');
  r.emit({ name, op: 'prelu', inputs: [x], output: n.output![0], attrs: {}, params: { slope } }, at);
};

/** Max(z, z * s) with 0 <= s <= 1 is PRelu(z, s): how nnshrink writes a layer of ReLU and linear neurons. */
const max: Converter = (r, n, at, name) => {
  const ins = (n.input ?? []).map((t) => r.resolve(t));
  const scaled = r.nodes.find((q) => q.op === 'affine' && ins.length === 2 && ins.includes(q.output) && ins.includes(q.inputs[0]) && q.inputs[0] !== q.output) as AffineNode | undefined;
  const ok = scaled && scaled.params.shift.data.every((v) => v === 0) && scaled.params.scale.data.every((v) => v >= 0 && v <= 1);
  if (!scaled || !ok) fail(`${at}: unsupported operator Max (read only as Max(z, z * s) with a constant 0 <= s <= 1)`);
  const slope = scaled.params.scale;
  if (size(slope.shape) !== slope.data.length) fail(`${at}: bad slope`);
  r.emit({ name, op: 'prelu', inputs: [scaled.inputs[0]], output: n.output![0], attrs: {}, params: { slope } }, at);
};

export const ARITH_OPS: Record<string, Converter> = { Add: arith, Sub: arith, Mul: arith, Div: arith, BatchNormalization: batchNorm, PRelu: pRelu, Max: max };
