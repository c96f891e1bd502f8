/**
 * ONNX -> Network. The graph is walked from its input in topological order, tracking the value on the main path as
 * an affine function M x + c of the current layer's input; every Relu (or 0/1 PRelu) closes a dense layer. Constant
 * operands (initializers, Constant nodes) fold into M and c, so chains like MatMul -> Add -> Mul -> BatchNorm become
 * one layer. Anything outside the supported operator set is a one-line error naming the node.
 */
import { validateNetwork, type Layer, type Network } from '../model/network.ts';
import { boxFromJSON } from '../model/box.ts';
import { fail, printable, quote } from '../errors.ts';
import type { LoadedModel, OnnxSource } from './model-file.ts';
import { readInputFile } from './read-text.ts';
import {
  decodeModel,
  ONNX_DOUBLE,
  ONNX_EXTERNAL,
  ONNX_FLOAT,
  ONNX_FLOAT16,
  ONNX_INT32,
  ONNX_INT64,
  ONNX_INT8,
  ONNX_UINT8,
  type OAttr,
  type OGraph,
  type OModel,
  type ONode,
  type OTensor,
} from './onnx-schema.ts';

export const SUPPORTED_OPS = [
  'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Relu', 'PRelu', 'Flatten', 'Reshape', 'Transpose', 'Identity',
  'Dropout', 'Constant', 'BatchNormalization', 'Squeeze', 'Unsqueeze', 'Max (as Max(z, z*s) with s in {0,1})',
];

interface Const {
  dims: number[];
  data: Float64Array;
}

/** The value of a float16 bit pattern. */
export function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Tensor contents as float64, reading raw_data through a DataView (it is often not 4-byte aligned). */
export function tensorData(t: OTensor, where: string): Const {
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const type = t.data_type ?? 0;
  if (t.data_location === ONNX_EXTERNAL) fail(`${where}: tensor ${quote(t.name ?? '')} keeps its data in an external file, which is not supported (save the model with its weights inside)`);
  let data: Float64Array;
  const raw = t.raw_data;
  if (raw && raw.length > 0) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = type === ONNX_DOUBLE || type === ONNX_INT64 ? 8 : type === ONNX_FLOAT16 ? 2 : type === ONNX_INT8 || type === ONNX_UINT8 ? 1 : 4;
    if (raw.length !== count * size) fail(`${where}: tensor ${quote(t.name ?? '')} has ${raw.length} bytes, expected ${count * size}`);
    data = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      if (type === ONNX_FLOAT) data[i] = dv.getFloat32(i * 4, true);
      else if (type === ONNX_DOUBLE) data[i] = dv.getFloat64(i * 8, true);
      else if (type === ONNX_INT64) data[i] = Number(dv.getBigInt64(i * 8, true));
      else if (type === ONNX_INT32) data[i] = dv.getInt32(i * 4, true);
      else if (type === ONNX_FLOAT16) data[i] = half(dv.getUint16(i * 2, true));
      else if (type === ONNX_INT8) data[i] = dv.getInt8(i);
      else if (type === ONNX_UINT8) data[i] = dv.getUint8(i);
      else fail(`${where}: tensor ${quote(t.name ?? '')} has unsupported data type ${type}`);
    }
  } else {
    const src =
      type === ONNX_FLOAT ? t.float_data : type === ONNX_DOUBLE ? t.double_data : type === ONNX_INT64 ? t.int64_data : type === ONNX_INT32 || type === ONNX_INT8 || type === ONNX_UINT8 || type === ONNX_FLOAT16 ? t.int32_data : undefined;
    if (!src && count > 0) fail(`${where}: tensor ${quote(t.name ?? '')} has unsupported data type ${type}`);
    data = Float64Array.from(src ?? []);
    // int32_data holds a float16 tensor's bit patterns, one per entry
    if (type === ONNX_FLOAT16) data = data.map(half);
    if (data.length !== count) fail(`${where}: tensor ${quote(t.name ?? '')} has ${data.length} values, expected ${count}`);
  }
  return { dims, data };
}

/**
 * A Cast or DequantizeLinear of constants folded to the exact values onnxruntime computes (quantised files: weights
 * stored as float16 or int8, then made float32). Cast to float rounds to float32 (Math.fround), to double keeps the
 * value. DequantizeLinear y = (x - zero_point) * scale in float32: the difference cast to float, the product of
 * two float32 values rounded once to float32 (exact in float64 first: 24 + 24 bits). Per tensor (one scale) or per
 * axis (`axis`, default 1, one scale per index along it).
 */
export function foldQuantConst(op: 'Cast' | 'DequantizeLinear', n: ONode, ins: Const[], where: string): Const {
  if (op === 'Cast') {
    const to = attrI(n, 'to', 0);
    if (to === ONNX_FLOAT) return { dims: ins[0].dims, data: ins[0].data.map(Math.fround) };
    if (to === ONNX_DOUBLE) return ins[0];
    fail(`${where}: Cast of a constant to data type ${to} is not supported (only to float or double)`);
  }
  const [x, scale, zp] = ins;
  const k = scale.data.length;
  if (zp && zp.data.length !== k) fail(`${where}: zero point of ${zp.data.length} values for ${k} scales`);
  let at = (_i: number): number => 0;
  if (k !== 1) {
    const rank = x.dims.length;
    const a0 = attrI(n, 'axis', 1);
    const ax = a0 < 0 ? a0 + rank : a0;
    if (!(ax >= 0 && ax < rank) || x.dims[ax] !== k) fail(`${where}: ${k} scales do not match axis ${a0} of shape [${x.dims.join(',')}]`);
    const inner = prod(x.dims.slice(ax + 1));
    at = (i) => Math.floor(i / inner) % k;
  }
  const data = x.data.map((q, i) => Math.fround(Math.fround(q - (zp ? zp.data[at(i)] : 0)) * Math.fround(scale.data[at(i)])));
  return { dims: x.dims, data };
}

function attr(node: ONode, name: string): OAttr | undefined {
  return node.attribute?.find((a) => a.name === name);
}
const attrI = (n: ONode, name: string, d: number): number => (attr(n, name)?.i !== undefined ? Number(attr(n, name)!.i) : d);
const attrF = (n: ONode, name: string, d: number): number => (attr(n, name)?.f !== undefined ? Number(attr(n, name)!.f) : d);

/** The main-path value: rows = current tensor elements, columns = current layer's inputs (+ constant). */
interface Affine {
  M: Float64Array;
  c: Float64Array;
  rows: number;
  cols: number;
  shape: number[];
  /** M is exactly the identity (c may be anything): lets MatMul/Gemm skip a full matrix product */
  isId: boolean;
}

function identityAffine(n: number, shape: number[]): Affine {
  const M = new Float64Array(n * n);
  for (let i = 0; i < n; i++) M[i * n + i] = 1;
  return { M, c: new Float64Array(n), rows: n, cols: n, shape, isId: true };
}

const prod = (d: number[]): number => d.reduce((a, b) => a * b, 1);

/** The most input values read: the data path starts as their identity matrix, 4096 x 4096 doubles = 128 MiB. */
export const MAX_ONNX_INPUTS = 4096;

/** The metadata key of a slice family written as one ONNX file (nested If nodes, see slice/family-onnx.ts). */
export const FAMILY_ONNX_KEY = 'nnshrink.family';

/**
 * The metadata key of a file nnshrink wrote for a source with a fixed batch other than 1 (onnx-write.ts): its first
 * input dimension is that batch, rows computed alike, so the network is read from one row. Files of others are read
 * whole: their first dimension may be data (a column [n, 1]).
 */
export const BATCH_ONNX_KEY = 'nnshrink.batch';

/**
 * The operator-set versions read (of the default domain, ai.onnx). Below 7 Add, Mul and Gemm broadcast by an
 * attribute and BatchNormalization has other attributes; up to 22 the supported operators mean what this reader
 * assumes. Anything else is refused rather than guessed.
 */
export const OPSET_MIN = 7;
export const OPSET_MAX = 22;

/** Decodes an ONNX model with a one-line error for anything that is not one, or not of a supported opset. */
export function decodeOnnx(bytes: Uint8Array, path: string): OModel & { graph: OGraph } {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    fail(`${path}: not a valid ONNX file (${(e as Error).message.split('\n')[0]})`);
  }
  const g = model.graph;
  if (!g || !g.node || g.node.length === 0) fail(`${path}: not a valid ONNX file (no graph nodes)`);
  checkOpset(model, path);
  const outs = g.output ?? [];
  if (outs.length !== 1) {
    const names = outs.map((o) => quote(o.name ?? '')).join(', ');
    fail(`${path}: the graph has ${outs.length} outputs${outs.length ? ` (${names})` : ''}; nnshrink reads networks with exactly one`);
  }
  return { ...model, graph: g };
}

function checkOpset(model: OModel, path: string): void {
  const range = `supported: ${OPSET_MIN} to ${OPSET_MAX}`;
  const own = (model.opset_import ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
  if (own.length === 0) fail(`${path}: declares no opset for the default ONNX domain (${range})`);
  for (const o of own) {
    const v = o.version ?? 0; // proto3 leaves a version of 0 out: it decodes as absent
    if (!(v >= OPSET_MIN && v <= OPSET_MAX)) fail(`${path}: opset ${v} is not supported (${range})`);
  }
}

/**
 * What a decoded model declared for its one data input and its output, for writing a drop-in replacement; undefined
 * unless the input is named, batch-first (rank 2 or more) and float or double, which is what the writer can keep.
 */
export function onnxSourceOf(model: OModel & { graph: OGraph }): OnnxSource | undefined {
  const g = model.graph;
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (g.input ?? []).filter((v) => !inits.has(v.name ?? ''));
  const t = inputs[0]?.type?.tensor_type;
  const dims = t?.shape?.dim ?? [];
  const inputName = inputs[0]?.name ?? '';
  const outputName = g.output?.[0]?.name ?? '';
  if (inputs.length !== 1 || !inputName || !outputName || dims.length < 2) return undefined;
  if (t?.elem_type !== ONNX_FLOAT && t?.elem_type !== ONNX_DOUBLE) return undefined;
  const b = dims[0];
  const batch = b.dim_value ? Number(b.dim_value) : (b.dim_param ?? '');
  const opset = Math.max(...(model.opset_import ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx').map((o) => Number(o.version ?? 0)));
  return { inputName, outputName, batch, opset, precision: t.elem_type === ONNX_DOUBLE ? 'float64' : 'float32' };
}

export function parseOnnx(bytes: Uint8Array, path: string): LoadedModel {
  const model = decodeOnnx(bytes, path);
  if (model.metadata_props?.some((m) => m.key === FAMILY_ONNX_KEY)) {
    fail(`${path}: a slice family in one ONNX file (nested If nodes), not one network: 'nnshrink eval', 'info' and 'verify' read it`);
  }
  const loaded = graphToNetwork(model.graph, path, model.metadata_props);
  const onnx = onnxSourceOf(model);
  return onnx ? { ...loaded, onnx } : loaded;
}

/**
 * The network of an If branch: a subgraph with no inputs of its own, reading the outer graph's tensor `inputName`
 * (shape [1, n]); `where` names the branch in errors.
 */
export function branchNetwork(g: OGraph, inputName: string, n: number, where: string): Network {
  const withInput: OGraph = { ...g, input: [{ name: inputName, type: { tensor_type: { shape: { dim: [{ dim_value: 1 }, { dim_value: n }] } } } }] };
  return graphToNetwork(withInput, where).network;
}

function graphToNetwork(g: OGraph, path: string, meta?: Array<{ key?: string; value?: string }>): LoadedModel {
  const consts = new Map<string, Const>();
  for (const t of g.initializer ?? []) consts.set(t.name ?? '', tensorData(t, path));
  const inputs = (g.input ?? []).filter((v) => !consts.has(v.name ?? ''));
  if (inputs.length === 0) fail(`${path}: the graph has no input that is not a constant (initializer)`);
  if (inputs.length > 1) {
    fail(`${path}: graph input ${quote(inputs[1].name ?? '')} is a second data input (after ${quote(inputs[0].name ?? '')}); nnshrink reads networks with one input`);
  }
  const inName = inputs[0].name ?? '';
  const declared = (inputs[0].type?.tensor_type?.shape?.dim ?? []).map((d) => (d.dim_value && d.dim_value > 0 ? Number(d.dim_value) : 1));
  const inShape = meta?.some((m) => m.key === BATCH_ONNX_KEY) && declared.length >= 2 ? [1, ...declared.slice(1)] : declared;
  const nIn = prod(inShape);
  if (!(nIn > 0)) fail(`${path}: input ${quote(inName)} has no usable shape`);
  // the path starts as the identity, nIn x nIn numbers that no tensor in the file bounds
  if (nIn > MAX_ONNX_INPUTS) fail(`${path}: input ${quote(inName)} of shape [${inShape.join(',')}] has ${nIn} values (at most ${MAX_ONNX_INPUTS} are supported)`);
  const layers: Layer[] = [];
  let cur = identityAffine(nIn, inShape);
  let curName = inName;
  let layerIn = nIn;
  let pendingAct: Uint8Array | null = null; // activation that closed the last layer, if it was the last op
  const outName = g.output?.[0]?.name;
  const nodes = g.node ?? [];
  const where = (n: ONode): string => `${path}: node ${quote(n.name || n.output?.[0] || '?')} (${printable(n.op_type ?? '')})`;
  const mainIndex = (n: ONode): number => (n.input ?? []).indexOf(curName);
  const constOf = (n: ONode, name: string | undefined): Const => {
    const c = name !== undefined ? consts.get(name) : undefined;
    if (!c) fail(`${where(n)}: operand ${quote(name ?? '')} must be a constant (only one data path is supported)`);
    return c;
  };
  // weights stored quantised (float16 or int8, onnx-quant-write.ts): a Cast or DequantizeLinear of constants only
  const foldsToConst = (n: ONode): boolean =>
    (n.op_type === 'Cast' || n.op_type === 'DequantizeLinear') && (!n.domain || n.domain === 'ai.onnx') && (n.input ?? []).length > 0 && (n.input ?? []).every((t) => t === '' || consts.has(t));
  // a weight matrix already applied to the current layer: a second one with no activation between closes a linear
  // layer first, so a factored linear map (nnshrink writes one when it has fewer parameters) reads back as written
  let matrixApplied = false;
  const closeLayer = (relu: Uint8Array): void => {
    layers.push({ inSize: cur.cols, outSize: cur.rows, weights: cur.M, bias: cur.c, relu });
    matrixApplied = false;
    layerIn = cur.rows;
    cur = identityAffine(layerIn, cur.shape);
  };
  const remaining = nodes.slice();
  let guard = 0;
  while (remaining.length) {
    if (guard++ > 100000) fail(`${path}: graph could not be ordered`);
    // next node: a Constant, or a node that consumes the current main value
    const idx = remaining.findIndex((n) => n.op_type === 'Constant' || foldsToConst(n) || (n.input ?? []).includes(curName));
    if (idx < 0) {
      const n = remaining[0];
      fail(`${where(n)}: does not consume the network's data path (branching graphs are not supported)`);
    }
    const n = remaining.splice(idx, 1)[0];
    // an operator of another domain only shares the name of the standard one
    if (n.domain && n.domain !== 'ai.onnx') fail(`${where(n)}: operator domain ${quote(n.domain)} is not supported (only the standard ONNX operators)`);
    const op = n.op_type ?? '';
    const out = n.output?.[0] ?? '';
    if (op === 'Constant') {
      const a = attr(n, 'value');
      if (!a?.t) fail(`${where(n)}: only tensor-valued Constant nodes are supported`);
      consts.set(out, tensorData(a.t, where(n)));
      continue;
    }
    if (foldsToConst(n)) {
      consts.set(out, foldQuantConst(op as 'Cast' | 'DequantizeLinear', n, (n.input ?? []).filter((t) => t !== '').map((t) => consts.get(t)!), where(n)));
      continue;
    }
    // Max(z, z * s) with a 0/1 constant s: per-neuron ReLU (s = 0) or identity (s = 1), nnshrink's own mixed layer
    if (op === 'Mul') {
      const other = consts.get(n.input?.[1 - mainIndex(n)] ?? '');
      const mx = remaining.findIndex((q) => q.op_type === 'Max' && q.input?.length === 2 && q.input.includes(curName) && q.input.includes(out));
      if (other && mx >= 0 && other.data.length === cur.rows && other.data.every((v) => v === 0 || v === 1)) {
        const maxNode = remaining.splice(mx, 1)[0];
        const relu = Uint8Array.from(other.data, (v) => (v === 0 ? 1 : 0));
        closeLayer(relu);
        pendingAct = relu;
        curName = maxNode.output?.[0] ?? '';
        continue;
      }
    }
    if (!SUPPORTED_OPS.includes(op)) {
      fail(`${where(n)}: unsupported operator ${printable(op)} (supported: ${SUPPORTED_OPS.join(', ')})`);
    }
    const mi = mainIndex(n);
    pendingAct = null;
    switch (op) {
      case 'Identity':
      case 'Dropout':
        break;
      case 'Flatten': {
        const axis = attrI(n, 'axis', 1);
        const s = cur.shape;
        const ax = axis < 0 ? axis + s.length : axis;
        cur.shape = [prod(s.slice(0, ax)), prod(s.slice(ax))];
        break;
      }
      case 'Reshape': {
        const sh = Array.from(constOf(n, n.input?.[1]).data);
        let unknown = -1;
        const shape = sh.map((v, i) => {
          if (v === 0) return cur.shape[i];
          if (v === -1) {
            unknown = i;
            return 1;
          }
          return v;
        });
        if (unknown >= 0) shape[unknown] = cur.rows / prod(shape);
        if (prod(shape) !== cur.rows) fail(`${where(n)}: cannot reshape ${cur.rows} values to [${sh.join(',')}]`);
        cur.shape = shape;
        break;
      }
      case 'Squeeze':
      case 'Unsqueeze':
        cur.shape = op === 'Squeeze' ? cur.shape.filter((d) => d !== 1) : [1, ...cur.shape];
        break;
      case 'Transpose': {
        const s = cur.shape;
        const perm = attr(n, 'perm')?.ints?.map(Number) ?? s.map((_, i) => s.length - 1 - i);
        if (perm.length !== s.length || perm.some((p, i) => !(Number.isInteger(p) && p >= 0 && p < s.length) || perm.indexOf(p) !== i)) {
          fail(`${where(n)}: perm [${perm.join(',')}] is not a permutation of the ${s.length} axes of shape [${s.join(',')}]`);
        }
        const ns = perm.map((p) => s[p]);
        // element at new multi-index j comes from old index with old[perm[t]] = j[t]
        const strides = s.map((_, i) => prod(s.slice(i + 1)));
        const M = new Float64Array(cur.M.length);
        const c = new Float64Array(cur.rows);
        const idxv = new Array(ns.length).fill(0);
        for (let r = 0; r < cur.rows; r++) {
          let old = 0;
          for (let t = 0; t < ns.length; t++) old += idxv[t] * strides[perm[t]];
          M.set(cur.M.subarray(old * cur.cols, (old + 1) * cur.cols), r * cur.cols);
          c[r] = cur.c[old];
          for (let t = ns.length - 1; t >= 0; t--) {
            if (++idxv[t] < ns[t]) break;
            idxv[t] = 0;
          }
        }
        cur = { ...cur, M, c, shape: ns, isId: false };
        break;
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const other = constOf(n, n.input?.[1 - mi]);
        const k = other.data.length;
        if (k !== 1 && k !== cur.rows) fail(`${where(n)}: constant of ${k} values does not broadcast to ${cur.rows}`);
        const v = (r: number): number => (k === 1 ? other.data[0] : other.data[r]);
        for (let r = 0; r < cur.rows; r++) {
          const x = v(r);
          if (op === 'Add') cur.c[r] += x;
          else if (op === 'Sub') {
            if (mi === 0) cur.c[r] -= x;
            else {
              cur.c[r] = x - cur.c[r];
              cur.isId = false;
              for (let j = 0; j < cur.cols; j++) cur.M[r * cur.cols + j] = -cur.M[r * cur.cols + j];
            }
          } else {
            if (op === 'Div' && mi !== 0) fail(`${where(n)}: division BY the data is not affine`);
            const f = op === 'Mul' ? x : 1 / x;
            if (f !== 1) cur.isId = false;
            cur.c[r] *= f;
            for (let j = 0; j < cur.cols; j++) cur.M[r * cur.cols + j] *= f;
          }
        }
        break;
      }
      case 'MatMul':
      case 'Gemm': {
        const gemm = op === 'Gemm';
        const tA = gemm ? attrI(n, 'transA', 0) : 0;
        const tB = gemm ? attrI(n, 'transB', 0) : 0;
        const alpha = gemm ? attrF(n, 'alpha', 1) : 1;
        const beta = gemm ? attrF(n, 'beta', 1) : 1;
        if (mi > 1) fail(`${where(n)}: the data must be operand A or B`);
        if (matrixApplied) closeLayer(new Uint8Array(cur.rows));
        matrixApplied = true;
        const W = constOf(n, n.input?.[1 - mi]);
        if (W.dims.length !== 2) fail(`${where(n)}: constant operand must be 2-D, got [${W.dims.join(',')}]`);
        // y = T x + c' with T (outN x cur.rows)
        let outN: number;
        let T: (o: number, i: number) => number;
        if (mi === 0) {
          // data is A: y = alpha op(A) op(B); with a single row, op(A) is the vector itself
          const [r0, c0] = W.dims;
          const K = tB ? c0 : r0;
          outN = tB ? r0 : c0;
          if (K !== cur.rows) fail(`${where(n)}: weight has inner size ${K} but the data has ${cur.rows} values`);
          if (tA) fail(`${where(n)}: transA on the data operand is not supported`);
          T = tB ? (o, i) => W.data[o * c0 + i] : (o, i) => W.data[i * c0 + o];
        } else {
          // data is B (a column): y = alpha op(A) x
          const [r0, c0] = W.dims;
          const K = tA ? r0 : c0;
          outN = tA ? c0 : r0;
          if (K !== cur.rows) fail(`${where(n)}: weight has inner size ${K} but the data has ${cur.rows} values`);
          T = tA ? (o, i) => W.data[i * c0 + o] : (o, i) => W.data[o * c0 + i];
        }
        const M = new Float64Array(outN * cur.cols);
        const c = new Float64Array(outN);
        for (let o = 0; o < outN; o++) {
          let cc = 0;
          for (let i = 0; i < cur.rows; i++) {
            const t = alpha * T(o, i);
            if (t === 0) continue;
            cc += t * cur.c[i];
            if (cur.isId) {
              M[o * cur.cols + i] = t;
              continue;
            }
            const src = i * cur.cols;
            for (let j = 0; j < cur.cols; j++) M[o * cur.cols + j] += t * cur.M[src + j];
          }
          c[o] = cc;
        }
        if (gemm && n.input && n.input.length > 2 && n.input[2]) {
          const C = constOf(n, n.input[2]);
          if (C.data.length !== 1 && C.data.length !== outN) fail(`${where(n)}: bias of ${C.data.length} values for ${outN} outputs`);
          for (let o = 0; o < outN; o++) c[o] += beta * (C.data.length === 1 ? C.data[0] : C.data[o]);
        }
        cur = { M, c, rows: outN, cols: cur.cols, shape: mi === 0 ? [1, outN] : [outN, 1], isId: false };
        break;
      }
      case 'BatchNormalization': {
        const [scale, bias, mean, vr] = [1, 2, 3, 4].map((i) => constOf(n, n.input?.[i]).data);
        const eps = attrF(n, 'epsilon', 1e-5);
        const ch = scale.length;
        if (cur.rows % ch !== 0) fail(`${where(n)}: ${ch} channels do not divide ${cur.rows} values`);
        const per = cur.rows / ch;
        for (let r = 0; r < cur.rows; r++) {
          const k = Math.floor(r / per);
          const f = scale[k] / Math.sqrt(vr[k] + eps);
          cur.c[r] = (cur.c[r] - mean[k]) * f + bias[k];
          if (f !== 1) cur.isId = false;
          for (let j = 0; j < cur.cols; j++) cur.M[r * cur.cols + j] *= f;
        }
        break;
      }
      case 'Relu':
      case 'PRelu': {
        let relu = new Uint8Array(cur.rows).fill(1);
        if (op === 'PRelu') {
          const s = constOf(n, n.input?.[1]).data;
          if (s.length !== 1 && s.length !== cur.rows) fail(`${where(n)}: slope of ${s.length} values for ${cur.rows} neurons`);
          relu = Uint8Array.from({ length: cur.rows }, (_, i) => {
            const v = s.length === 1 ? s[0] : s[i];
            if (v !== 0 && v !== 1) fail(`${where(n)}: PRelu slope ${v} is not supported (only 0 = ReLU and 1 = linear)`);
            return v === 0 ? 1 : 0;
          });
        }
        closeLayer(relu);
        pendingAct = relu;
        break;
      }
    }
    curName = out;
  }
  if (outName !== undefined && curName !== outName) fail(`${path}: the graph output ${quote(outName)} is not the end of the data path`);
  if (!pendingAct) closeLayer(new Uint8Array(cur.rows));
  // (an activation right before the output stays on the last layer: a network with an output ReLU)
  const network: Network = { inputSize: nIn, layers };
  validateNetwork(network, path);
  let domain;
  const dm = meta?.find((m) => m.key === 'nnshrink.domain')?.value;
  if (dm) {
    let o: unknown;
    try {
      o = JSON.parse(dm);
    } catch {
      fail(`${path}: metadata 'nnshrink.domain' is not valid JSON {lo, hi}`);
    }
    domain = boxFromJSON(o, nIn, `${path}: metadata domain`);
  }
  return { network, domain, format: 'onnx', path, inputShape: inShape };
}

export function readOnnx(path: string): LoadedModel {
  const buf = readInputFile(path);
  return parseOnnx(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}
