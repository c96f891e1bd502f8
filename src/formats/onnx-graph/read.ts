/**
 * ONNX -> Graph. Walks the nodes in the file's (topological) order: constants fold, data nodes become graph-model
 * nodes through their converters, every shape is inferred and checked as the node is read, and the finished graph is
 * checked whole by buildGraph. Anything that is not read is a one-line error naming the file, the node and the
 * operator; nothing is evaluated half-way.
 */
import { fail, printable, quote } from '../../errors.ts';
import type { Graph, GraphInput } from '../../model/graph/types.ts';
import { buildGraph } from '../../model/graph/build.ts';
import { readInputFile } from '../read-text.ts';
import { decodeOnnx } from '../onnx-read.ts';
import { ONNX_DOUBLE, ONNX_FLOAT, type OGraph, type OModel, type ONode, type OValueInfo } from '../onnx-schema.ts';
import { constFromTensor, tryFold } from './fold.ts';
import { Reader } from './reader.ts';
import { CONVERTERS, GRAPH_OPS } from './convert.ts';
import { fuseAffinePairs, fuseDenseAffine, liveNodes, renameTensor } from './tidy.ts';

const nodeName = (n: ONode, i: number): string => n.name || `#${i}`;

function graphInput(g: OGraph, initNames: Set<string>, path: string): GraphInput {
  const inputs = (g.input ?? []).filter((v) => !initNames.has(v.name ?? ''));
  if (inputs.length !== 1) {
    const names = inputs.map((v) => quote(v.name ?? '')).join(', ');
    fail(`${path}: the graph has ${inputs.length} inputs that are not initializers${inputs.length ? ` (${names})` : ''}; nnshrink reads networks with one`);
  }
  const v = inputs[0];
  const name = v.name ?? '';
  const t = v.type?.tensor_type;
  if (t?.elem_type && ![ONNX_FLOAT, ONNX_DOUBLE].includes(t.elem_type)) fail(`${path}: input ${quote(name)} has element type ${t.elem_type} (float or double only)`);
  const dims = t?.shape?.dim ?? [];
  if (dims.length < 2) fail(`${path}: input ${quote(name)} has ${dims.length} dimension(s); expected a batch dimension first, then the sample's`);
  const shape = dims.slice(1).map((d, i) => {
    const k = Number(d.dim_value ?? 0);
    if (!(k >= 1)) fail(`${path}: input ${quote(name)} dimension ${i + 1} is ${d.dim_param ? quote(d.dim_param) : 'unknown'}; only the batch (first) may be symbolic`);
    return k;
  });
  const b = dims[0];
  return { name, shape, batch: b.dim_value ? Number(b.dim_value) : (b.dim_param ?? '') };
}

function checkOutput(o: OValueInfo, s: readonly number[], path: string): void {
  const dims = o.type?.tensor_type?.shape?.dim;
  if (!dims || dims.length === 0) return;
  const declared = dims.slice(1).map((d) => Number(d.dim_value ?? 0));
  const ok = dims.length === s.length + 1 && declared.every((d, i) => d === 0 || d === s[i]);
  if (!ok) fail(`${path}: the output ${quote(o.name ?? '')} is declared [${dims.map((d) => d.dim_value || d.dim_param || '?').join(',')}] but computes [batch,${s.join(',')}]`);
}

function readNode(r: Reader, n: ONode, i: number): void {
  const op = n.op_type ?? '';
  const at = `${r.path}: node ${quote(nodeName(n, i))} (${printable(op)})`;
  if (n.domain && n.domain !== 'ai.onnx') fail(`${at}: operator domain ${quote(n.domain)} is not supported`);
  const out = n.output?.[0];
  if (!out) fail(`${at}: has no output`);
  for (const t of n.input ?? []) {
    if (t && !r.isConst(t) && !r.data.has(r.resolve(t))) fail(`${at}: input ${quote(t)} is used before any node makes it`);
  }
  for (const t of n.output ?? []) if (t && (r.isConst(t) || r.data.has(t) || r.alias.has(t))) fail(`${at}: output ${quote(t)} is made twice`);
  const folded = tryFold(r, n, at);
  if (folded) return r.setConst(out, folded);
  const conv = CONVERTERS[op];
  if (!conv) fail(`${at}: unsupported operator ${printable(op)} (supported: ${GRAPH_OPS.join(', ')})`);
  conv(r, n, at, nodeName(n, i));
}

/** The graph of an ONNX model already decoded and checked by decodeOnnx (one output, a supported opset). */
export function modelToGraph(model: OModel & { graph: OGraph }, path: string): Graph {
  const g = model.graph;
  const opset = Math.max(...(model.opset_import ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx').map((o) => Number(o.version ?? 0)));
  const initNames = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const input = graphInput(g, initNames, path);
  const r = new Reader(path, opset, typeof input.batch === 'number' ? input.batch : undefined);
  for (const t of g.initializer ?? []) r.setConst(t.name ?? '', constFromTensor(t, path));
  r.data.set(input.name, input.shape);
  (g.node ?? []).forEach((n, i) => readNode(r, n, i));
  const outInfo = g.output![0];
  const outName = outInfo.name ?? '';
  if (r.isConst(outName)) fail(`${path}: the output ${quote(outName)} is a constant`);
  const made = r.resolve(outName);
  if (!r.data.has(made)) fail(`${path}: the output ${quote(outName)} is not made by any node`);
  if (made === input.name) fail(`${path}: the output ${quote(outName)} is the input itself`);
  let nodes = fuseDenseAffine(fuseAffinePairs(liveNodes(r.nodes, made), made), made);
  if (made !== outName) nodes = renameTensor(nodes, made, outName);
  const graph = buildGraph(input, nodes, outName, path, opset);
  checkOutput(outInfo, graph.output.shape, path);
  const precision = g.input?.find((v) => v.name === input.name)?.type?.tensor_type?.elem_type === ONNX_DOUBLE ? 'float64' : 'float32';
  return { ...graph, precision };
}

/** The graph of ONNX bytes; `path` names them in messages. */
export function parseOnnxGraph(bytes: Uint8Array, path: string): Graph {
  return modelToGraph(decodeOnnx(bytes, path), path);
}

/** Reads an ONNX file as a graph (constant sub-graphs folded, every shape checked). */
export function readOnnxGraph(path: string): Graph {
  const buf = readInputFile(path);
  return parseOnnxGraph(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}
