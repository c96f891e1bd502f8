/** ONNX activations -> relu, leakyrelu, clip, sigmoid, tanh, softmax, logsoftmax. */
import { fail } from '../../errors.ts';
import type { ONode } from '../onnx-schema.ts';
import * as A from './attrs.ts';
import type { Reader } from './reader.ts';
import type { Converter } from './reader.ts';

const plain = (op: 'relu' | 'sigmoid' | 'tanh'): Converter => (r, n, at, name) => {
  const [x] = r.dataOf(n.input?.[0], at, 'input');
  r.emit({ name, op, inputs: [x], output: n.output![0], attrs: {}, params: {} }, at);
};

const leaky: Converter = (r, n, at, name) => {
  const [x] = r.dataOf(n.input?.[0], at, 'input');
  r.emit({ name, op: 'leakyrelu', inputs: [x], output: n.output![0], attrs: { alpha: A.float(n, 'alpha', 0.01) }, params: {} }, at);
};

/** Clip's bounds: attributes before opset 11, optional constant inputs (scalars) from 11. */
function clipBound(r: Reader, n: ONode, i: number, at: string, d: number): number {
  if (r.opset < 11) return A.float(n, i === 1 ? 'min' : 'max', d);
  const t = n.input?.[i];
  if (!t) return d;
  const c = r.constOf(t, at, i === 1 ? 'min' : 'max');
  if (c.data.length !== 1) fail(`${at}: ${i === 1 ? 'min' : 'max'} is not a scalar`);
  return c.data[0];
}

const clip: Converter = (r, n, at, name) => {
  const [x] = r.dataOf(n.input?.[0], at, 'input');
  const attrs = { min: clipBound(r, n, 1, at, -Infinity), max: clipBound(r, n, 2, at, Infinity) };
  r.emit({ name, op: 'clip', inputs: [x], output: n.output![0], attrs, params: {} }, at);
};

/** Before opset 13 Softmax normalises over the flattened axes from `axis` (default 1); from 13 over `axis` (default -1). */
const soft = (op: 'softmax' | 'logsoftmax'): Converter => (r, n, at, name) => {
  const [x, xs] = r.dataOf(n.input?.[0], at, 'input');
  const old = r.opset < 13;
  const rank = xs.length + 1;
  const raw = A.int(n, 'axis', old ? 1 : -1, at);
  const axis = (raw < 0 ? raw + rank : raw) - 1;
  if (!(axis >= 0 && axis < xs.length)) fail(`${at}: axis ${raw} is the batch axis or out of range for rank ${rank}`);
  const attrs = { axis, toEnd: old && axis < xs.length - 1 };
  r.emit({ name, op, inputs: [x], output: n.output![0], attrs, params: {} }, at);
};

export const ACT_OPS: Record<string, Converter> = {
  Relu: plain('relu'), Sigmoid: plain('sigmoid'), Tanh: plain('tanh'), LeakyRelu: leaky, Clip: clip,
  Softmax: soft('softmax'), LogSoftmax: soft('logsoftmax'),
};
