/**
 * A quantised graph as ONNX that onnxruntime runs: the float32 file write.ts writes for g (whose conv / dense
 * parameters already hold the stored values), with each quantised node's weight (and, float16, its bias)
 * initializer replaced by its stored form and a node making it float32 under the old name: float16 -> Cast(to
 * float); int8 -> DequantizeLinear(int8, float32 scale, int8 zero point 0), per tensor or per output channel (axis 0
 * of a Conv or Gemm weight, axis 1 of a MatMul's [in, out]). The graph reader folds both back to the values written
 * (fold.ts), so the file reads back as g; each stored value is re-derived from g's and checked to be exact.
 */
import type { Graph } from '../../model/graph/types.ts';
import { half, tensorData } from '../onnx-read.ts';
import { floatTensor } from '../onnx-write.ts';
import { ATTR_INT, decodeModel, encodeModel, ONNX_FLOAT, ONNX_FLOAT16, ONNX_INT8, type ONode, type OTensor } from '../onnx-schema.ts';
import { encodeGraphOnnx } from './write.ts';
import { internal } from './write-context.ts';

/** How one weighted node's weight is stored (scales: int8 only, one per tensor or one per output channel). */
export type StoredKind = { kind: 'float32' } | { kind: 'float16' } | { kind: 'int8'; scales: Float32Array };

/** The float16 bits of a value that is one (checked by the caller against half()). */
function halfBits(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return sign | (Math.min(e + 15, 31) << 10) | (Math.round(a / 2 ** (e - 10)) - 1024);
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

function castOf(t: OTensor): { inits: OTensor[]; node: ONode } {
  const { dims, data } = tensorData(t, 'quantised graph');
  const bits = Uint16Array.from(data, halfBits);
  bits.forEach((b, i) => {
    if (!Object.is(half(b), data[i])) internal(`${t.name}[${i}] = ${data[i]} is not a float16 value`);
  });
  const h: OTensor = { name: `${t.name}_f16`, dims, data_type: ONNX_FLOAT16, raw_data: bytesOf(bits) };
  return { inits: [h], node: { op_type: 'Cast', name: `${t.name}_cast`, input: [h.name!], output: [t.name!], attribute: [{ name: 'to', i: ONNX_FLOAT, type: ATTR_INT }] } };
}

/** int8 values and their scales along `axis` (scales.length 1: per tensor), each checked to mean the value. */
function dequantOf(t: OTensor, scales: Float32Array, axis: number): { inits: OTensor[]; node: ONode } {
  const { dims, data } = tensorData(t, 'quantised graph');
  const k = scales.length;
  if (k > 1 && dims[axis] !== k) internal(`${t.name}: ${k} scales for axis ${axis} of [${dims.join(',')}]`);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const at = (i: number): number => (k === 1 ? 0 : Math.floor(i / inner) % k);
  const q = Int8Array.from(data, (v, i) => {
    const s = scales[at(i)];
    const r = Math.round(v / s);
    if (!(Math.abs(r) <= 127 && Math.fround(r * s) === v)) internal(`${t.name}[${i}] = ${v} is no int8 multiple of its scale ${s}`);
    return r;
  });
  const sdims = k > 1 ? [k] : [];
  const qt: OTensor = { name: `${t.name}_q`, dims, data_type: ONNX_INT8, raw_data: bytesOf(q) };
  const st = floatTensor(`${t.name}_scale`, sdims, scales, 'float32');
  const zt: OTensor = { name: `${t.name}_zero`, dims: sdims, data_type: ONNX_INT8, raw_data: new Uint8Array(k) };
  const node: ONode = { op_type: 'DequantizeLinear', name: `${t.name}_dequantize`, input: [qt.name!, st.name!, zt.name!], output: [t.name!], ...(k > 1 ? { attribute: [{ name: 'axis', i: axis, type: ATTR_INT }] } : {}) };
  return { inits: [qt, st, zt], node };
}

/** The weight and bias initializer names of a weighted ONNX node and its weight's output-channel axis. */
function paramsOf(n: ONode, nodes: readonly ONode[]): { weight: string; bias?: string; axis: number } {
  const [, w, b] = n.input ?? [];
  if (n.op_type === 'Conv' || n.op_type === 'Gemm') return { weight: w, bias: b, axis: 0 };
  // MatMul (the reader's dense on a matrix sample): [in, out], its bias in the Add that follows, if any
  const add = nodes.find((m) => m.op_type === 'Add' && m.input?.[0] === n.output?.[0]);
  return { weight: w, bias: add?.input?.[1], axis: 1 };
}

/** The bytes of g with its quantised nodes' parameters stored as `stored` says (int8 with an axis: g's opset >= 13). */
export function encodeQuantGraphOnnx(g: Graph, stored: ReadonlyMap<string, StoredKind>): Uint8Array {
  if ([...stored.values()].some((s) => s.kind === 'int8' && s.scales.length > 1) && (g.opset ?? 17) < 13) internal(`per-channel DequantizeLinear needs opset 13, the graph has ${g.opset}`);
  const model = decodeModel(encodeGraphOnnx(g, { precision: 'float32' }));
  const graph = model.graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const added: OTensor[] = [];
  const made: ONode[] = [];
  const replace = (name: string | undefined, how: (t: OTensor) => { inits: OTensor[]; node: ONode }): void => {
    const t = name ? inits.get(name) : undefined;
    if (!t) internal(`no initializer '${name}' to store`);
    const r = how(t);
    inits.delete(name!);
    added.push(...r.inits);
    made.push(r.node);
  };
  const nodes = graph.node ?? [];
  for (const n of nodes) {
    const s = stored.get(n.name ?? '');
    if (!s || s.kind === 'float32' || !['Conv', 'Gemm', 'MatMul'].includes(n.op_type ?? '')) continue;
    const p = paramsOf(n, nodes);
    if (s.kind === 'float16') {
      replace(p.weight, castOf);
      if (p.bias) replace(p.bias, castOf);
    } else replace(p.weight, (t) => dequantOf(t, s.scales, (t.dims ?? []).length === 1 ? 0 : p.axis));
  }
  graph.initializer = [...inits.values(), ...added];
  graph.node = [...made, ...nodes];
  return encodeModel(model);
}
