/**
 * ONNX layout operators on data: Flatten, Reshape, Squeeze, Unsqueeze (one reshape node, or nothing when the shape
 * does not change), Transpose, Concat, Pad, and Identity / Dropout / Cast to a float type (aliases). The batch axis
 * must stay first and whole: anything that would move or merge it is refused.
 */
import { fail, printable } from '../../errors.ts';
import type { Shape } from '../../model/graph/types.ts';
import { fmt, sameShape, size } from '../../model/graph/shape.ts';
import { ONNX_DOUBLE, ONNX_FLOAT, type ONode } from '../onnx-schema.ts';
import * as A from './attrs.ts';
import { axesOf, squeezeShape, unsqueezeShape } from './fold.ts';
import type { Reader } from './reader.ts';
import type { Converter } from './reader.ts';

/** A reshape node to `shape`, or an alias when the shape is unchanged. */
function reshapeTo(r: Reader, n: ONode, at: string, name: string, shape: Shape): void {
  const [x, xs] = r.dataOf(n.input?.[0], at, 'input');
  if (size(shape) !== size(xs)) fail(`${at}: cannot reshape [batch,${xs.join(',')}] to [batch,${shape.join(',')}]`);
  if (sameShape(shape, xs)) r.setAlias(n.output![0], x);
  else r.emit({ name, op: 'reshape', inputs: [x], output: n.output![0], attrs: { shape }, params: {} }, at);
}

const flatten: Converter = (r, n, at, name) => {
  const [, xs] = r.dataOf(n.input?.[0], at, 'input');
  const raw = A.int(n, 'axis', 1, at);
  const axis = raw < 0 ? raw + xs.length + 1 : raw;
  if (!(axis >= 0 && axis <= xs.length + 1)) fail(`${at}: axis ${raw} is out of range`);
  if (axis === 0 || size(xs.slice(0, axis - 1)) !== 1) fail(`${at}: Flatten at axis ${raw} merges the batch axis with others`);
  reshapeTo(r, n, at, name, [size(xs.slice(axis - 1))]);
};

/** Reshape's first entry must be the batch: BATCH (folded from Shape), 0, -1 or the input's fixed batch size. */
const reshapeOp: Converter = (r, n, at, name) => {
  const [, xs] = r.dataOf(n.input?.[0], at, 'input');
  const t = Array.from(r.constOf(n.input?.[1], at, 'shape').data);
  const zero = A.int(n, 'allowzero', 0, at) === 1;
  const rest = t.slice(1).map((v, i) => (v === 0 && !zero ? xs[i] : v));
  if (rest.some((v) => Number.isNaN(v) || v === undefined)) fail(`${at}: target shape ${fmt(t)} depends on the batch size beyond its first entry`);
  const unknown = rest.indexOf(-1);
  if (unknown >= 0) rest[unknown] = size(xs) / size(rest.filter((_, i) => i !== unknown));
  const first = t[0];
  const isBatch = Number.isNaN(first) || (first === 0 && !zero) || first === r.fixedBatch || (first === -1 && unknown < 0 && size(rest) === size(xs));
  if (!isBatch || t.length === 0) fail(`${at}: target shape ${fmt(t)} does not keep the batch as its first axis`);
  if (!rest.every((v) => Number.isInteger(v) && v >= 1) || size(rest) !== size(xs)) fail(`${at}: cannot reshape [batch,${xs.join(',')}] to ${fmt(t)}`);
  reshapeTo(r, n, at, name, rest);
};

const batchAxes = (axes: number[], rank: number, at: string): number[] => {
  const v = axes.map((a) => (a < 0 ? a + rank : a));
  if (v.some((a) => a === 0)) fail(`${at}: axes ${fmt(axes)} include the batch axis`);
  return v.map((a) => a - 1);
};

const squeeze: Converter = (r, n, at, name) => {
  const [, xs] = r.dataOf(n.input?.[0], at, 'input');
  const ins = (n.input ?? []).map((t, i) => (i > 0 && t ? r.constOf(t, at, 'axes') : undefined!));
  const axes = axesOf(r, n, ins, at);
  reshapeTo(r, n, at, name, squeezeShape(xs, axes && batchAxes(axes, xs.length + 1, at), at));
};

const unsqueeze: Converter = (r, n, at, name) => {
  const [, xs] = r.dataOf(n.input?.[0], at, 'input');
  const ins = (n.input ?? []).map((t, i) => (i > 0 && t ? r.constOf(t, at, 'axes') : undefined!));
  const axes = axesOf(r, n, ins, at) ?? fail(`${at}: no axes`);
  reshapeTo(r, n, at, name, unsqueezeShape(xs, batchAxes(axes, xs.length + 1 + axes.length, at), at));
};

const transposeOp: Converter = (r, n, at, name) => {
  const [x, xs] = r.dataOf(n.input?.[0], at, 'input');
  const rank = xs.length + 1;
  const perm = A.ints(n, 'perm', at) ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || perm[0] !== 0) fail(`${at}: perm ${fmt(perm)} does not keep the batch axis first (rank ${rank})`);
  const p = perm.slice(1).map((v) => v - 1);
  if (p.every((v, i) => v === i)) r.setAlias(n.output![0], x);
  else r.emit({ name, op: 'transpose', inputs: [x], output: n.output![0], attrs: { perm: p }, params: {} }, at);
};

const concatOp: Converter = (r, n, at, name) => {
  const ins = (n.input ?? []).map((t) => r.dataOf(t, at, 'input (a constant joined to the data is not supported)'));
  const rank = ins[0][1].length + 1;
  const raw = A.int(n, 'axis', 1, at);
  const [axis] = batchAxes([raw], rank, at);
  if (ins.length === 1) r.setAlias(n.output![0], ins[0][0]);
  else r.emit({ name, op: 'concat', inputs: ins.map(([t]) => t), output: n.output![0], attrs: { axis }, params: {} }, at);
};

/** Pad's pads and value: attributes before opset 11, inputs from 11 (with axes from 18). */
function padSpec(r: Reader, n: ONode, rank: number, at: string): [number[], number] {
  if (r.opset < 11) return [A.ints(n, 'pads', at) ?? fail(`${at}: no pads`), A.float(n, 'value', 0)];
  const raw = Array.from(r.constOf(n.input?.[1], at, 'pads').data);
  const v = n.input?.[2] ? r.constOf(n.input[2], at, 'constant_value').data : Float64Array.of(0);
  if (v.length !== 1) fail(`${at}: constant_value is not a scalar`);
  if (!n.input?.[3]) return [raw, v[0]];
  const axes = Array.from(r.constOf(n.input[3], at, 'axes').data).map((a) => (a < 0 ? a + rank : a));
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((a, k) => {
    pads[a] = raw[k];
    pads[a + rank] = raw[k + axes.length];
  });
  return [pads, v[0]];
}

const padOp: Converter = (r, n, at, name) => {
  const [x, xs] = r.dataOf(n.input?.[0], at, 'input');
  const mode = A.str(n, 'mode', 'constant') || 'constant';
  if (mode !== 'constant') fail(`${at}: mode ${printable(mode)} is not supported (constant only)`);
  const rank = xs.length + 1;
  const [pads, value] = padSpec(r, n, rank, at);
  if (pads.length !== 2 * rank) fail(`${at}: pads ${fmt(pads)} do not fit rank ${rank}`);
  if (pads[0] !== 0 || pads[rank] !== 0) fail(`${at}: pads ${fmt(pads)} pad the batch axis`);
  if (pads.some((v) => v < 0)) fail(`${at}: negative pads ${fmt(pads)} (cropping) are not supported`);
  const p = [...pads.slice(1, rank), ...pads.slice(rank + 1)];
  if (p.every((v) => v === 0)) r.setAlias(n.output![0], x);
  else r.emit({ name, op: 'pad', inputs: [x], output: n.output![0], attrs: { pads: p, value }, params: {} }, at);
};

const alias: Converter = (r, n, at) => {
  const [x] = r.dataOf(n.input?.[0], at, 'input');
  if (n.op_type === 'Dropout' && n.input?.[2] && r.constOf(n.input[2], at, 'training_mode').data[0]) fail(`${at}: training_mode is on (inference only)`);
  if (n.op_type === 'Cast' && ![ONNX_FLOAT, ONNX_DOUBLE].includes(A.int(n, 'to', 0, at))) fail(`${at}: a cast of the data to a type other than float is not supported`);
  r.setAlias(n.output![0], x);
};

export const SHAPE_OPS: Record<string, Converter> = {
  Flatten: flatten, Reshape: reshapeOp, Squeeze: squeeze, Unsqueeze: unsqueeze, Transpose: transposeOp,
  Concat: concatOp, Pad: padOp, Identity: alias, Dropout: alias, Cast: alias,
};
