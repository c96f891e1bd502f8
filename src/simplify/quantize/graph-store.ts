/**
 * A graph network's weights as quantisation stores them: each conv and dense node (its weight tensor) as float16
 * (weight and bias, as the chain's), or int8 with symmetric float32 scales (one per tensor, or one per output
 * channel: axis 0 of a conv's [O, C/group, kh, kw] and of a dense [out, in]), zero point 0, bias float32; a node
 * kept float32 keeps its float32 values. Everything else (BatchNormalization, affine, PRelu parameters) stays as it
 * is. The quantised graph g is f with those nodes' parameters replaced by the exact values the stored numbers mean
 * (float16 values, fround(q * s) as DequantizeLinear computes it): the graph the written file reads back as.
 */
import { fail } from '../../errors.ts';
import type { ConvNode, DenseNode, Graph, GraphNode, Tensor } from '../../model/graph/types.ts';
import { buildGraph } from '../../model/graph/build.ts';
import { half } from '../../formats/onnx-read.ts';
import { toHalfBits, type QuantSpec } from './values.ts';
import type { StoredKind } from '../../formats/onnx-graph/write-quant.ts';

export type { StoredKind };

/** The weighted nodes (conv, dense) in the graph's order: what --keep-float numbers from 1. */
export const weightedNodes = (g: Graph): Array<ConvNode | DenseNode> => g.nodes.filter((n): n is ConvNode | DenseNode => n.op === 'conv' || n.op === 'dense');

const tensor = (t: Tensor, data: Float64Array): Tensor => ({ shape: t.shape, data });

function float16Values(t: Tensor, where: string): Float64Array {
  return Float64Array.from(t.data, (v) => half(toHalfBits(v, where)));
}

/** Symmetric int8 of a weight whose axis 0 is its output channels: the scales and the values they mean. */
function int8Values(w: Tensor, perChannel: boolean, where: string): { scales: Float32Array; data: Float64Array } {
  const rows = perChannel ? w.shape[0] : 1;
  const per = w.data.length / rows;
  const scales = new Float32Array(rows);
  const data = new Float64Array(w.data.length);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let i = r * per; i < (r + 1) * per; i++) max = Math.max(max, Math.abs(w.data[i]));
    // an all-zero channel: any scale; 1 keeps the file readable
    const s = max > 0 ? Math.fround(max / 127) : 1;
    if (!(s > 0) || !Number.isFinite(s)) fail(`${where}: weights of magnitude ${max} have no float32 int8 scale`);
    scales[r] = s;
    for (let i = r * per; i < (r + 1) * per; i++) {
      const q = Math.max(-127, Math.min(127, Math.round(w.data[i] / s)));
      data[i] = Math.fround(q * s);
    }
  }
  return { scales, data };
}

function storeNode(n: ConvNode | DenseNode, k: number, spec: QuantSpec): { node: GraphNode; stored: StoredKind } {
  const { weight, bias } = n.params;
  const where = `node '${n.name}' (${n.op})`;
  if (spec.keepFloat.includes(k)) {
    const p = { weight: tensor(weight, weight.data.map(Math.fround)), bias: tensor(bias, bias.data.map(Math.fround)) };
    return { node: { ...n, params: p } as GraphNode, stored: { kind: 'float32' } };
  }
  if (spec.to === 'float16') {
    const p = { weight: tensor(weight, float16Values(weight, `${where} weight`)), bias: tensor(bias, float16Values(bias, `${where} bias`)) };
    return { node: { ...n, params: p } as GraphNode, stored: { kind: 'float16' } };
  }
  const q = int8Values(weight, spec.perChannel, where);
  const p = { weight: tensor(weight, q.data), bias: tensor(bias, bias.data.map(Math.fround)) };
  return { node: { ...n, params: p } as GraphNode, stored: { kind: 'int8', scales: q.scales } };
}

/** g (f with its weighted nodes' values as stored) and, by node name, how each is stored. */
export function storeGraph(f: Graph, spec: QuantSpec): { g: Graph; stored: Map<string, StoredKind> } {
  const weighted = weightedNodes(f);
  spec.keepFloat.forEach((k) => {
    if (!(Number.isInteger(k) && k >= 0 && k < weighted.length)) fail(`--keep-float: layer ${k + 1} does not exist (the network has ${weighted.length} conv and dense nodes)`);
  });
  const stored = new Map<string, StoredKind>();
  const index = new Map(weighted.map((n, k) => [n.name, k]));
  if (index.size !== weighted.length) fail(`${f.input.name}: two conv / dense nodes share a name; quantize names each stored weight after its node`);
  const nodes = f.nodes.map((n) => {
    const k = index.get(n.name);
    if (k === undefined || (n.op !== 'conv' && n.op !== 'dense')) return n;
    const s = storeNode(n, k, spec);
    stored.set(n.name, s.stored);
    return s.node;
  });
  // DequantizeLinear with an axis needs opset 13 (the writer writes every node in the opset's own form)
  const opset = spec.to === 'int8' ? Math.max(13, f.opset ?? 17) : f.opset;
  const g = buildGraph(f.input, nodes, f.output.name, 'quantised graph', opset);
  return { g: { ...g, precision: 'float32' }, stored };
}
