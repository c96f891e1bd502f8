/** ONNX Conv, MaxPool, AveragePool, GlobalAveragePool -> the graph model's conv and pooling nodes (2-D, NCHW). */
import { fail, printable } from '../../errors.ts';
import type { ONode } from '../onnx-schema.ts';
import type { Shape } from '../../model/graph/types.ts';
import { fmt } from '../../model/graph/shape.ts';
import { outSize } from '../../model/graph/ops/pool-geometry.ts';
import * as A from './attrs.ts';
import type { Reader } from './reader.ts';
import type { Converter } from './reader.ts';

type Pair = [number, number];

function pair(n: ONode, name: string, d: number, at: string): Pair {
  const v = A.ints(n, name, at) ?? [d, d];
  if (v.length !== 2) fail(`${at}: ${name} ${fmt(v)} is not 2-D (only 2-D convolution and pooling are supported)`);
  return [v[0], v[1]];
}

/** [top, left, bottom, right] from pads or auto_pad (SAME_UPPER puts the odd pad at the end, SAME_LOWER at the start). */
function padsOf(n: ONode, x: Shape, k: Pair, s: Pair, d: Pair, at: string): [number, number, number, number] {
  const auto = A.str(n, 'auto_pad', 'NOTSET') || 'NOTSET';
  if (auto === 'NOTSET') {
    const p = A.ints(n, 'pads', at) ?? [0, 0, 0, 0];
    if (p.length !== 4) fail(`${at}: pads ${fmt(p)} are not 2-D`);
    return [p[0], p[1], p[2], p[3]];
  }
  if (auto === 'VALID') return [0, 0, 0, 0];
  if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') fail(`${at}: auto_pad ${printable(auto)} is not supported`);
  const [b, e] = [0, 1].map((ax) => {
    const out = Math.ceil(x[ax + 1] / s[ax]);
    const total = Math.max(0, (out - 1) * s[ax] + (k[ax] - 1) * d[ax] + 1 - x[ax + 1]);
    const small = Math.floor(total / 2);
    return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
  });
  return [b[0], e[0], b[1], e[1]];
}

function image(r: Reader, n: ONode, at: string): [string, Shape] {
  const [t, s] = r.dataOf(n.input?.[0], at, 'input');
  if (s.length !== 3) fail(`${at}: input of shape [batch,${s.join(',')}] is not [batch, channels, height, width] (only 2-D is supported)`);
  return [t, s];
}

const conv: Converter = (r, n, at, name) => {
  const [x, xs] = image(r, n, at);
  const w = r.constOf(n.input?.[1], at, 'weight');
  if (w.shape.length !== 4) fail(`${at}: weight of shape ${fmt(w.shape)} is not [out, in/group, kh, kw]`);
  const kernel = pair(n, 'kernel_shape', 0, at);
  if (A.attr(n, 'kernel_shape') && (kernel[0] !== w.shape[2] || kernel[1] !== w.shape[3])) fail(`${at}: kernel_shape ${fmt(kernel)} does not match the weight ${fmt(w.shape)}`);
  const k: Pair = [w.shape[2], w.shape[3]];
  const strides = pair(n, 'strides', 1, at);
  const dilations = pair(n, 'dilations', 1, at);
  const b = n.input?.[2] ? r.constOf(n.input[2], at, 'bias') : { shape: [w.shape[0]], data: new Float64Array(w.shape[0]) };
  r.emit({
    name, op: 'conv', inputs: [x], output: n.output![0],
    attrs: { kernel: k, strides, dilations, pads: padsOf(n, xs, k, strides, dilations, at), group: A.int(n, 'group', 1, at) },
    params: { weight: { shape: w.shape, data: w.data }, bias: { shape: b.shape, data: b.data } },
  }, at);
};

const maxPool: Converter = (r, n, at, name) => {
  const [x, xs] = image(r, n, at);
  const kernel = pair(n, 'kernel_shape', 0, at);
  const strides = pair(n, 'strides', 1, at);
  const dilations = pair(n, 'dilations', 1, at);
  const pads = padsOf(n, xs, kernel, strides, dilations, at);
  if (A.int(n, 'storage_order', 0, at) !== 0) fail(`${at}: storage_order 1 is not supported`);
  const attrs = { kernel, strides, pads, dilations, ceil: A.int(n, 'ceil_mode', 0, at) === 1 };
  r.emit({ name, op: 'maxpool', inputs: [x], output: n.output![0], attrs, params: {} }, at);
};

const avgPool: Converter = (r, n, at, name) => {
  const [x, xs] = image(r, n, at);
  const kernel = pair(n, 'kernel_shape', 0, at);
  const strides = pair(n, 'strides', 1, at);
  const pads = padsOf(n, xs, kernel, strides, [1, 1], at);
  if (A.attr(n, 'dilations') && pair(n, 'dilations', 1, at).some((v) => v !== 1)) fail(`${at}: dilated AveragePool is not supported`);
  if (A.int(n, 'ceil_mode', 0, at) === 1) {
    // rounding up only matters when it adds a window; such a window's divisor is defined differently across runtimes
    const same = [0, 1].every((ax) => outSize(xs[ax + 1], kernel[ax], strides[ax], pads[ax], pads[ax + 2], 1, true) === outSize(xs[ax + 1], kernel[ax], strides[ax], pads[ax], pads[ax + 2], 1, false));
    if (!same) fail(`${at}: AveragePool with ceil_mode 1 that adds a window is not supported`);
  }
  const attrs = { kernel, strides, pads, countIncludePad: A.int(n, 'count_include_pad', 0, at) === 1 };
  r.emit({ name, op: 'averagepool', inputs: [x], output: n.output![0], attrs, params: {} }, at);
};

const globalAvgPool: Converter = (r, n, at, name) => {
  const [x] = r.dataOf(n.input?.[0], at, 'input');
  r.emit({ name, op: 'globalaveragepool', inputs: [x], output: n.output![0], attrs: {}, params: {} }, at);
};

export const CONV_OPS: Record<string, Converter> = { Conv: conv, MaxPool: maxPool, AveragePool: avgPool, GlobalAveragePool: globalAvgPool };
