/**
 * Constant folding at load: a node whose inputs are all constants (or a Shape of data) becomes a constant. This
 * covers the Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains exporters write for a flatten that keeps the
 * batch, weights transposed or reshaped by the exporter, and Constant nodes.
 */
import { fail } from '../../errors.ts';
import type { ONode, OTensor } from '../onnx-schema.ts';
import { ONNX_DOUBLE, ONNX_FLOAT, ONNX_FLOAT16 } from '../onnx-schema.ts';
import { foldQuantConst, tensorData } from '../onnx-read.ts';
import { broadcastIndex, broadcastShapes, fmt, size } from '../../model/graph/shape.ts';
import { transpose } from '../../model/graph/ops/transpose.ts';
import type { TransposeNode } from '../../model/graph/types.ts';
import * as A from './attrs.ts';
import { BATCH, type Const, type Reader } from './reader.ts';

const FLOAT_TYPES = new Set([ONNX_FLOAT, ONNX_DOUBLE, ONNX_FLOAT16]);

/** An ONNX tensor (initializer, Constant value) as a constant. */
export function constFromTensor(t: OTensor, at: string): Const {
  const { dims, data } = tensorData(t, at);
  return { shape: dims, data, int: !FLOAT_TYPES.has(t.data_type ?? ONNX_FLOAT) };
}

type Fold = (r: Reader, n: ONode, ins: Const[], at: string) => Const;

const axisOf = (a: number, rank: number, at: string): number => {
  const v = a < 0 ? a + rank : a;
  if (!(v >= 0 && v < rank)) fail(`${at}: axis ${a} is out of range for rank ${rank}`);
  return v;
};

function constantNode(n: ONode, at: string): Const {
  const a = n.attribute?.[0];
  if (!a) fail(`${at}: a Constant node without a value`);
  if (a.name === 'value' && a.t) return constFromTensor(a.t, at);
  if (a.name === 'value_float') return { shape: [], data: Float64Array.of(Number(a.f ?? 0)), int: false };
  if (a.name === 'value_floats') return { shape: [a.floats?.length ?? 0], data: Float64Array.from(a.floats ?? []), int: false };
  if (a.name === 'value_int') return { shape: [], data: Float64Array.of(Number(a.i ?? 0)), int: true };
  if (a.name === 'value_ints') return { shape: [a.ints?.length ?? 0], data: Float64Array.from((a.ints ?? []).map(Number)), int: true };
  fail(`${at}: a Constant of kind ${a.name} is not supported`);
}

function gather(n: ONode, [d, idx]: Const[], at: string): Const {
  const ax = axisOf(A.int(n, 'axis', 0, at), d.shape.length, at);
  const len = d.shape[ax];
  const outer = size(d.shape.slice(0, ax));
  const inner = size(d.shape.slice(ax + 1));
  const out = new Float64Array(outer * idx.data.length * inner);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (const raw of idx.data) {
      const i = raw < 0 ? raw + len : raw;
      if (!(i >= 0 && i < len)) fail(`${at}: index ${raw} is out of range for ${len}`);
      out.set(d.data.subarray((o * len + i) * inner, (o * len + i + 1) * inner), k);
      k += inner;
    }
  }
  return { shape: [...d.shape.slice(0, ax), ...idx.shape, ...d.shape.slice(ax + 1)], data: out, int: d.int };
}

/** Axes of Squeeze / Unsqueeze: an attribute before opset 13, the second input from 13. */
export function axesOf(r: Reader, n: ONode, ins: Const[], at: string): number[] | undefined {
  if (r.opset < 13) return A.ints(n, 'axes', at);
  return ins[1] ? Array.from(ins[1].data) : undefined;
}

export function unsqueezeShape(s: readonly number[], axes: number[], at: string): number[] {
  const rank = s.length + axes.length;
  const ax = axes.map((a) => axisOf(a, rank, at));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(ax.includes(i) ? 1 : s[k++]);
  return out;
}

export function squeezeShape(s: readonly number[], axes: number[] | undefined, at: string): number[] {
  const ax = axes?.map((a) => axisOf(a, s.length, at));
  for (const a of ax ?? []) if (s[a] !== 1) fail(`${at}: cannot squeeze axis ${a} of size ${s[a]}`);
  return s.filter((d, i) => (ax ? !ax.includes(i) : d !== 1));
}

/** Reshape's target with 0 (copy) and -1 (infer) resolved against `s`. */
export function reshapeTarget(s: readonly number[], target: number[], allowZero: boolean, at: string): number[] {
  const out = target.map((v, i) => (v === 0 && !allowZero ? s[i] : v));
  const unknown = out.indexOf(-1);
  if (unknown >= 0) {
    const rest = size(out.filter((_, i) => i !== unknown));
    out[unknown] = size(s) / rest;
  }
  if (!out.every((d) => Number.isInteger(d) && d >= 0) || size(out) !== size(s)) fail(`${at}: cannot reshape ${fmt(s)} to ${fmt(target)}`);
  return out;
}

function slice(r: Reader, n: ONode, ins: Const[], at: string): Const {
  const d = ins[0];
  const rank = d.shape.length;
  const arr = (i: number, name: string): number[] | undefined => (r.opset < 10 ? A.ints(n, name, at) : ins[i] ? Array.from(ins[i].data) : undefined);
  const starts = arr(1, 'starts') ?? fail(`${at}: no starts`);
  const ends = arr(2, 'ends') ?? fail(`${at}: no ends`);
  const axes = (arr(3, 'axes') ?? starts.map((_, i) => i)).map((a) => axisOf(a, rank, at));
  const steps = arr(4, 'steps') ?? starts.map(() => 1);
  const picks = d.shape.map((len) => Array.from({ length: len }, (_, i) => i));
  axes.forEach((ax, k) => {
    const len = d.shape[ax];
    const st = steps[k];
    if (!st) fail(`${at}: step 0`);
    const clampS = (v: number): number => Math.min(Math.max(v < 0 ? v + len : v, st > 0 ? 0 : -1), st > 0 ? len : len - 1);
    const [b, e] = [clampS(starts[k]), clampS(ends[k])];
    const v: number[] = [];
    for (let i = b; st > 0 ? i < e : i > e; i += st) v.push(i);
    picks[ax] = v;
  });
  return pick(d, picks);
}

/** The sub-tensor of the given indices on each axis. */
function pick(d: Const, picks: number[][]): Const {
  const shape = picks.map((p) => p.length);
  const st = d.shape.map((_, i) => size(d.shape.slice(i + 1)));
  const out = new Float64Array(size(shape));
  const pos = new Array<number>(shape.length).fill(0);
  for (let e = 0; e < out.length; e++) {
    let k = 0;
    for (let a = 0; a < shape.length; a++) k += picks[a][pos[a]] * st[a];
    out[e] = d.data[k];
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++pos[a] < shape[a]) break;
      pos[a] = 0;
    }
  }
  return { shape, data: out, int: d.int };
}

function binary(f: (a: number, b: number, int: boolean) => number): Fold {
  return (_r, _n, [a, b], at) => {
    const shape = broadcastShapes(a.shape, b.shape) ?? fail(`${at}: shapes ${fmt(a.shape)} and ${fmt(b.shape)} do not broadcast`);
    const ia = broadcastIndex(a.shape, shape);
    const ib = broadcastIndex(b.shape, shape);
    const int = a.int && b.int;
    return { shape, data: Float64Array.from(ia, (x, e) => f(a.data[x], b.data[ib[e]], int)), int };
  };
}

const unaryFold = (f: (v: number) => number): Fold => (_r, _n, [a]) => ({ shape: a.shape, data: a.data.map(f), int: a.int });

const FOLDS: Record<string, Fold> = {
  Constant: (_r, n, _i, at) => constantNode(n, at),
  Identity: (_r, _n, [a]) => a,
  Dropout: (_r, _n, [a]) => a,
  Cast: (_r, n, [a], at) => {
    const to = A.int(n, 'to', 0, at);
    const int = !FLOAT_TYPES.has(to);
    // to float: rounded to float32 as onnxruntime does (a float16 weight's value is kept exactly)
    return { shape: a.shape, data: int ? a.data.map(Math.trunc) : to === ONNX_FLOAT ? a.data.map(Math.fround) : a.data, int };
  },
  // int8 weights in QDQ form (onnx-quant-write.ts): the float32 values onnxruntime computes
  DequantizeLinear: (_r, n, ins, at) => {
    const c = foldQuantConst('DequantizeLinear', n, ins.filter((x) => x !== undefined).map((x) => ({ dims: x.shape, data: x.data })), at);
    return { shape: c.dims, data: c.data, int: false };
  },
  Gather: (_r, n, ins, at) => gather(n, ins, at),
  Unsqueeze: (r, n, ins, at) => ({ ...ins[0], shape: unsqueezeShape(ins[0].shape, axesOf(r, n, ins, at) ?? fail(`${at}: no axes`), at) }),
  Squeeze: (r, n, ins, at) => ({ ...ins[0], shape: squeezeShape(ins[0].shape, axesOf(r, n, ins, at), at) }),
  Reshape: (_r, n, [a, s], at) => ({ ...a, shape: reshapeTarget(a.shape, Array.from(s.data), A.int(n, 'allowzero', 0, at) === 1, at) }),
  Flatten: (_r, n, [a], at) => {
    const ax = A.int(n, 'axis', 1, at);
    const k = ax < 0 ? ax + a.shape.length : ax;
    return { ...a, shape: [size(a.shape.slice(0, k)), size(a.shape.slice(k))] };
  },
  Concat: (_r, n, ins, at) => {
    const ax = axisOf(A.int(n, 'axis', 0, at), ins[0].shape.length, at);
    const outer = size(ins[0].shape.slice(0, ax));
    const parts: number[] = [];
    for (let o = 0; o < outer; o++) for (const c of ins) {
      const chunk = size(c.shape.slice(ax));
      parts.push(...c.data.subarray(o * chunk, (o + 1) * chunk));
    }
    const shape = ins[0].shape.map((d, i) => (i === ax ? ins.reduce((s, c) => s + c.shape[ax], 0) : d));
    if (parts.length !== size(shape)) fail(`${at}: shapes ${ins.map((c) => fmt(c.shape)).join(', ')} do not concatenate on axis ${ax}`);
    return { shape, data: Float64Array.from(parts), int: ins.every((c) => c.int) };
  },
  Transpose: (_r, n, [a], at) => {
    const perm = A.ints(n, 'perm', at) ?? a.shape.map((_, i) => a.shape.length - 1 - i);
    const node = { attrs: { perm } } as unknown as TransposeNode;
    const s = transpose.infer(node, [a.shape]);
    if (typeof s === 'string') fail(`${at}: ${s}`);
    return { shape: [...s], data: transpose.forward(node, [a.data], [a.shape], s, 1), int: a.int };
  },
  Slice: slice,
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary((a, b, int) => (int ? Math.trunc(a / b) : a / b)),
  Neg: unaryFold((v) => -v),
  Sqrt: unaryFold(Math.sqrt),
  Reciprocal: unaryFold((v) => 1 / v),
  ConstantOfShape: (_r, n, [s], at) => {
    const t = A.attr(n, 'value')?.t;
    const v = t ? tensorData(t, at).data[0] ?? 0 : 0;
    const shape = Array.from(s.data);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0) || size(shape) > 1 << 24) fail(`${at}: shape ${fmt(shape)} is not a usable size`);
    return { shape, data: new Float64Array(size(shape)).fill(v), int: t ? !FLOAT_TYPES.has(t.data_type ?? 0) : false };
  },
};

/** Shape of a data tensor or a constant: [batch, ...] with the batch unknown (BATCH); start / end from opset 15. */
function shapeOf(r: Reader, n: ONode, at: string): Const {
  const name = n.input?.[0] ?? '';
  const full = r.isConst(name) ? r.constOf(name, at).shape : [BATCH, ...r.dataOf(name, at)[1]];
  const rank = full.length;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const s = full.slice(clamp(A.int(n, 'start', 0, at)), clamp(A.int(n, 'end', rank, at)));
  return { shape: [s.length], data: Float64Array.from(s), int: true };
}

/** The folded value when the node folds (all inputs constant, or Shape); undefined when it is a data node. */
export function tryFold(r: Reader, n: ONode, at: string): Const | undefined {
  const op = n.op_type ?? '';
  if (op === 'Shape') return shapeOf(r, n, at);
  const names = n.input ?? [];
  if (!names.every((t) => t === '' || r.isConst(t))) return undefined;
  const f = FOLDS[op];
  if (!f) return undefined;
  const ins = names.map((t) => (t === '' ? (undefined as unknown as Const) : r.constOf(t, at)));
  return f(r, n, ins, at);
}
