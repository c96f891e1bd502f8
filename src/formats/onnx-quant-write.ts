/**
 * A quantised chain as ONNX that onnxruntime runs: the float32 file onnx-write.ts writes (the source's names, batch
 * and opset kept), with each Gemm's weight and bias initializer replaced by its stored form and a node that makes it
 * float32 under the old name: float16 -> Cast(to float); int8 -> DequantizeLinear(int8, float32 scale, int8 zero
 * point 0), per tensor or per output row (axis 0 of the [out, in] weight). The readers fold these nodes back to
 * the exact float32 values onnxruntime computes (onnx-read.ts foldQuantConst). A hidden layer's output stored
 * quantised (ActStore) goes to the next Gemm through QuantizeLinear -> DequantizeLinear (uint8, one float32 scale,
 * zero point 0) or Cast to float16 -> Cast to float; simplify/quantize/read.ts reads these back.
 */
import { fail } from '../errors.ts';
import type { Network } from '../model/network.ts';
import type { SaveOptions } from './model-file.ts';
import { ONNX_INT8, ONNX_UINT8 } from './onnx-schema.ts';
import { floatTensor, irVersionFor, onnxBytes } from './onnx-write.ts';
import { ATTR_INT, decodeModel, encodeModel, ONNX_FLOAT, ONNX_FLOAT16, type ONode, type OTensor } from './onnx-schema.ts';

/**
 * The output of one layer as the file stores it: float32 (nothing), uint8 QDQ of scale s, or float16. uint8 into a
 * Gemm whose weights are DequantizeLinear of integers: onnxruntime fuses the two into one integer kernel (QGemm)
 * that rounds the float32 bias to an integer multiple of s times the weights' scale; biasStep is the largest such
 * step (read from the file, simplify/quantize/read-act.ts), whose half the next layer's rounding bound adds.
 */
export type ActStore = { kind: 'float32' } | { kind: 'uint8'; scale: number; biasStep?: number } | { kind: 'float16' };

/** One layer as stored: float32 kept, float16 bit patterns, or int8 values with their scales. */
export type StoredLayer =
  | { kind: 'float32'; weights: Float32Array; bias: Float32Array }
  | { kind: 'float16'; weights: Uint16Array; bias: Uint16Array }
  | { kind: 'int8'; weights: Int8Array; scales: Float32Array; bias: Float32Array };

/** metadata key: what was quantised (JSON: target, per channel, layers kept float32) */
export const QUANT_ONNX_KEY = 'nnshrink.quantized';

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

/** The initializers and the node that give tensor `name` (dims) its float32 value from its stored form. */
function storedTensor(name: string, dims: number[], s: StoredLayer, which: 'weights' | 'bias'): { inits: OTensor[]; node?: ONode } {
  if (s.kind === 'float32') return { inits: [floatTensor(name, dims, s[which], 'float32')] };
  if (s.kind === 'float16') {
    const t: OTensor = { name: `${name}_f16`, dims, data_type: ONNX_FLOAT16, raw_data: bytesOf(s[which]) };
    return { inits: [t], node: { op_type: 'Cast', name: `${name}_cast`, input: [t.name!], output: [name], attribute: [{ name: 'to', i: ONNX_FLOAT, type: ATTR_INT }] } };
  }
  if (which === 'bias') return { inits: [floatTensor(name, dims, s.bias, 'float32')] };
  const perRow = s.scales.length > 1;
  const sdims = perRow ? [s.scales.length] : [];
  const q: OTensor = { name: `${name}_q`, dims, data_type: ONNX_INT8, raw_data: bytesOf(s.weights) };
  const scale = floatTensor(`${name}_scale`, sdims, s.scales, 'float32');
  const zero: OTensor = { name: `${name}_zero`, dims: sdims, data_type: ONNX_INT8, raw_data: new Uint8Array(s.scales.length) };
  const node: ONode = {
    op_type: 'DequantizeLinear',
    name: `${name}_dequantize`,
    input: [q.name!, scale.name!, zero.name!],
    output: [name],
    ...(perRow ? { attribute: [{ name: 'axis', i: 0, type: ATTR_INT }] } : {}),
  };
  return { inits: [q, scale, zero], node };
}

/** The two nodes (and their constants) that store the data tensor `name` as `a` says and give it back as `out`. */
function storedActivation(name: string, out: string, a: Exclude<ActStore, { kind: 'float32' }>): { inits: OTensor[]; nodes: ONode[] } {
  if (a.kind === 'float16') {
    const cast = (from: string, to: string, type: number, suffix: string): ONode => ({ op_type: 'Cast', name: `${name}_${suffix}`, input: [from], output: [to], attribute: [{ name: 'to', i: type, type: ATTR_INT }] });
    return { inits: [], nodes: [cast(name, `${name}_f16`, ONNX_FLOAT16, 'to_f16'), cast(`${name}_f16`, out, ONNX_FLOAT, 'to_f32')] };
  }
  const scale = floatTensor(`${name}_act_scale`, [], [a.scale], 'float32');
  const zero: OTensor = { name: `${name}_act_zero`, dims: [], data_type: ONNX_UINT8, raw_data: new Uint8Array(1) };
  const ins = [scale.name!, zero.name!];
  return {
    inits: [scale, zero],
    nodes: [
      { op_type: 'QuantizeLinear', name: `${name}_quantize`, input: [name, ...ins], output: [`${name}_u8`] },
      { op_type: 'DequantizeLinear', name: `${name}_dequantize`, input: [`${name}_u8`, ...ins], output: [out] },
    ],
  };
}

/**
 * The bytes of `net` (f's shapes and activations) with layer k's parameters stored as `stored[k]` says. `perRow`
 * int8 scales need DequantizeLinear's axis (opset 13); int8 at all needs opset 10: the declared opset is raised to 13
 * for int8.
 */
export function quantOnnxBytes(net: Network, stored: readonly StoredLayer[], opts: SaveOptions, meta: Record<string, unknown>, act?: readonly ActStore[]): Uint8Array {
  // a file of no ONNX source gets a batch dimension of any size ('N'), so onnxruntime can run many rows at once
  const source = opts.source ?? { inputName: 'input', outputName: 'output', batch: 'N', opset: 13, precision: 'float32' as const };
  const model = decodeModel(onnxBytes(net, { ...opts, source, precision: 'float32' }));
  const g = model.graph!;
  const gemms = (g.node ?? []).filter((n) => n.op_type === 'Gemm');
  if (gemms.length !== net.layers.length) fail(`writing quantised ONNX: ${gemms.length} Gemm nodes for ${net.layers.length} layers`);
  const replaced = new Set<string>();
  const inits: OTensor[] = [];
  const nodes: ONode[] = [];
  gemms.forEach((gemm, k) => {
    const L = net.layers[k];
    const [, w, b] = gemm.input ?? [];
    for (const [name, dims, which] of [[w, [L.outSize, L.inSize], 'weights'], [b, [L.outSize], 'bias']] as const) {
      const t = storedTensor(name, [...dims], stored[k], which);
      replaced.add(name);
      inits.push(...t.inits);
      if (t.node) nodes.push(t.node);
    }
  });
  g.initializer = [...(g.initializer ?? []).filter((t) => !replaced.has(t.name ?? '')), ...inits];
  g.node = [...nodes, ...(g.node ?? [])];
  // each stored output between layer k's activation and Gemm k + 1 (whose data input is that output)
  act?.forEach((a, k) => {
    if (a.kind === 'float32') return;
    const next = gemms[k + 1];
    if (!next) fail(`writing quantised ONNX: layer ${k + 1} is the output layer, its output is not stored quantised`);
    const name = next.input![0];
    const t = storedActivation(name, `${name}_stored`, a);
    g.initializer!.push(...t.inits);
    g.node!.splice(g.node!.indexOf(next), 0, ...t.nodes);
    next.input![0] = `${name}_stored`;
  });
  if (stored.some((s) => s.kind === 'int8') || act?.some((a) => a.kind === 'uint8')) {
    const own = (model.opset_import ?? []).find((o) => !o.domain);
    if (own && (own.version ?? 0) < 13) {
      own.version = 13;
      model.ir_version = irVersionFor(13);
    }
  }
  model.metadata_props = [...(model.metadata_props ?? []), { key: QUANT_ONNX_KEY, value: JSON.stringify(meta) }];
  return encodeModel(model);
}
