/** ONNX Gemm and MatMul by a constant -> dense (W [out, in] + b on the last axis). */
import { fail } from '../../errors.ts';
import { fmt, size } from '../../model/graph/shape.ts';
import * as A from './attrs.ts';
import type { Const } from './reader.ts';
import type { Converter } from './reader.ts';

/** W^T of a [k, n] matrix, times `alpha`: the [n, k] weight of a dense node. */
function transposed(b: Const, alpha: number): Float64Array {
  const [k, m] = b.shape;
  const w = new Float64Array(k * m);
  for (let i = 0; i < k; i++) for (let o = 0; o < m; o++) w[o * k + i] = alpha * b.data[i * m + o];
  return w;
}

/** Gemm's C as a bias of n values: a scalar, [n], [1, n] (one row for every sample). */
function gemmBias(c: Const | undefined, n: number, beta: number, at: string): Float64Array {
  if (!c) return new Float64Array(n);
  const s = c.shape;
  const ok = c.data.length === 1 || (c.data.length === n && s[s.length - 1] === n && s.length <= 2);
  if (!ok) fail(`${at}: C of shape ${fmt(s)} does not broadcast to [batch,${n}] (one bias row for every sample)`);
  return Float64Array.from({ length: n }, (_, o) => beta * c.data[c.data.length === 1 ? 0 : o]);
}

const gemm: Converter = (r, n, at, name) => {
  if (!r.data.has(r.resolve(n.input?.[0] ?? ''))) fail(`${at}: the data must be operand A (a constant A times the data is not supported)`);
  const [x, xs] = r.dataOf(n.input?.[0], at, 'A');
  if (xs.length !== 1) fail(`${at}: A of shape [batch,${xs.join(',')}] is not a matrix [batch, features]`);
  if (A.int(n, 'transA', 0, at) !== 0) fail(`${at}: transA on the data operand is not supported (it would mix the batch)`);
  const b = r.constOf(n.input?.[1], at, 'B');
  if (b.shape.length !== 2) fail(`${at}: B of shape ${fmt(b.shape)} is not a matrix`);
  const alpha = A.float(n, 'alpha', 1);
  const beta = A.float(n, 'beta', 1);
  const tB = A.int(n, 'transB', 0, at) === 1;
  const [out, inner] = tB ? b.shape : [b.shape[1], b.shape[0]];
  if (inner !== xs[0]) fail(`${at}: B of shape ${fmt(b.shape)}${tB ? ' (transposed)' : ''} does not take ${xs[0]} features`);
  const w = tB ? (alpha === 1 ? b.data : b.data.map((v) => alpha * v)) : transposed(b, alpha);
  const c = n.input?.[2] ? r.constOf(n.input[2], at, 'C') : undefined;
  const bias = gemmBias(c, out, beta, at);
  r.emit({ name, op: 'dense', inputs: [x], output: n.output![0], attrs: {}, params: { weight: { shape: [out, inner], data: w }, bias: { shape: [out], data: bias } } }, at);
};

const matMul: Converter = (r, n, at, name) => {
  if (r.isConst(n.input?.[0] ?? '')) fail(`${at}: a constant times the data is not supported (the data must be the first operand)`);
  const [x, xs] = r.dataOf(n.input?.[0], at, 'A');
  const b = r.constOf(n.input?.[1], at, 'B (a product of two data tensors is not supported)');
  if (xs.length < 1) fail(`${at}: A is a vector of the batch`);
  const k = xs[xs.length - 1];
  const vec = b.shape.length === 1;
  if (b.shape.length > 2 || b.shape[0] !== k) fail(`${at}: B of shape ${fmt(b.shape)} does not fit A of shape [batch,${xs.join(',')}]`);
  const m = vec ? 1 : b.shape[1];
  const weight = { shape: [m, k], data: vec ? b.data : transposed(b, 1) };
  const out = n.output![0];
  const denseOut = vec ? `${out}#matmul` : out;
  r.emit({ name, op: 'dense', inputs: [x], output: denseOut, attrs: {}, params: { weight, bias: { shape: [m], data: new Float64Array(m) } } }, at);
  // a vector B drops the last axis
  if (vec) r.emit({ name, op: 'reshape', inputs: [denseOut], output: out, attrs: { shape: size(xs) === k ? [1] : xs.slice(0, -1) }, params: {} }, at);
};

export const DENSE_OPS: Record<string, Converter> = { Gemm: gemm, MatMul: matMul };
