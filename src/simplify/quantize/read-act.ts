/**
 * Stored activations read back from a quantised file (onnx-quant-write.ts): on the data path, QuantizeLinear ->
 * DequantizeLinear (uint8, one float32 scale, zero point 0, the same scale in both) or Cast to float16 -> Cast to
 * float, each feeding one Gemm / MatMul. The pairs are taken out (the chain reader reads the rest); which layer's
 * output each one stores is settled by the chain reader itself: the graph cut at the pair's input reads as the
 * first layers of the whole chain, ending where the pair sits. Anything else is refused in one line: the proof
 * must be about the arithmetic the file prescribes, nothing guessed.
 */
import { fail, quote } from '../../errors.ts';
import { decodeOnnx, parseOnnx, tensorData } from '../../formats/onnx-read.ts';
import { encodeModel, ONNX_FLOAT, ONNX_FLOAT16, ONNX_UINT8, type OGraph, type ONode } from '../../formats/onnx-schema.ts';
import type { LoadedModel } from '../../formats/model-file.ts';
import type { Layer } from '../../model/network.ts';
import { floatScheme, type ActScheme, type ActStore } from './activations.ts';

interface Pair {
  first: ONode;
  second: ONode;
  store: Exclude<ActStore, { kind: 'float32' }>;
}

const isOp = (n: ONode, op: string): boolean => n.op_type === op && (!n.domain || n.domain === 'ai.onnx');
const intAttr = (n: ONode, name: string): number | undefined => {
  const a = n.attribute?.find((t) => t.name === name);
  return a?.i === undefined ? undefined : Number(a.i);
};

/** The tensors computed from the data input (the rest are constants: weights and what folds from them). */
function dataTensors(g: OGraph, input: string): Set<string> {
  const data = new Set([input]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const n of g.node ?? []) {
      if (!(n.input ?? []).some((t) => data.has(t))) continue;
      for (const o of n.output ?? []) {
        if (data.has(o)) continue;
        data.add(o);
        grew = true;
      }
    }
  }
  return data;
}

/** A uint8 pair's scale: one finite positive float32 initializer, the same in both nodes, zero point uint8 0. */
function uint8Store(g: OGraph, q: ONode, d: ONode, where: string): Pair['store'] {
  const init = (name: string | undefined) => (name ? (g.initializer ?? []).find((t) => t.name === name) : undefined);
  const one = (name: string | undefined, what: string, type: number): number => {
    const t = init(name) ?? fail(`${where}: the ${what} must be an initializer`);
    if ((t.data_type ?? 0) !== type) fail(`${where}: the ${what} ${quote(name ?? '')} must be ${type === ONNX_FLOAT ? 'float32' : 'uint8'}`);
    const v = tensorData(t, where).data;
    if (v.length !== 1) fail(`${where}: the ${what} ${quote(name ?? '')} must be one value (per tensor), not ${v.length}`);
    return v[0];
  };
  for (const n of [q, d]) if ((n.attribute ?? []).some((a) => a.name !== 'axis')) fail(`${where}: attributes other than axis are not supported on a stored activation`);
  const [s1, s2] = [q, d].map((n) => one(n.input?.[1], 'scale', ONNX_FLOAT));
  const zeros = [q, d].map((n) => (n.input?.[2] ? one(n.input[2], 'zero point', ONNX_UINT8) : 0));
  if (!(s1 > 0) || !Number.isFinite(s1)) fail(`${where}: scale ${s1} is not a positive finite number`);
  if (!Object.is(s1, s2)) fail(`${where}: QuantizeLinear's scale ${s1} and DequantizeLinear's ${s2} differ`);
  if (zeros.some((z) => z !== 0)) fail(`${where}: zero point ${zeros.find((z) => z !== 0)} (a stored activation has zero point 0)`);
  return { kind: 'uint8', scale: s1 };
}

/**
 * A uint8 activation into a Gemm / MatMul whose other operand is a DequantizeLinear of constants: onnxruntime may run
 * the two as one integer kernel with the bias rounded to steps of (activation scale x weight scale); the largest
 * step over the weight scales (widened for the float32 product onnxruntime forms).
 */
function biasStep(g: OGraph, gemm: ONode, data: string, scale: number, where: string): { biasStep?: number } {
  const weight = (gemm.input ?? []).slice(0, 2).find((t) => t !== data);
  const dq = (g.node ?? []).find((p) => isOp(p, 'DequantizeLinear') && (p.output ?? []).includes(weight ?? ''));
  if (!dq) return {};
  const t = (g.initializer ?? []).find((i) => i.name === dq.input?.[1]) ?? fail(`${where}: the weights' DequantizeLinear scale must be an initializer`);
  const scales = tensorData(t, where).data;
  const max = scales.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return { biasStep: scale * max * (1 + 2 ** -20) };
}

/** The pairs on the data path; a data-path QuantizeLinear, DequantizeLinear or float16 Cast outside one is refused. */
function findPairs(g: OGraph, data: Set<string>, path: string): Pair[] {
  const nodes = g.node ?? [];
  const consumers = (t: string): ONode[] => nodes.filter((n) => (n.input ?? []).includes(t));
  const where = (n: ONode): string => `${path}: node ${quote(n.name || n.output?.[0] || '?')} (${n.op_type})`;
  const onData = (n: ONode): boolean => data.has(n.input?.[0] ?? '');
  const pairs: Pair[] = [];
  const taken = new Set<ONode>();
  for (const n of nodes) {
    const isQ = isOp(n, 'QuantizeLinear');
    const isHalf = isOp(n, 'Cast') && intAttr(n, 'to') === ONNX_FLOAT16;
    if (!onData(n) || !(isQ || isHalf)) continue;
    const out = n.output?.[0] ?? '';
    const next = consumers(out);
    const second = next[0];
    const ok = next.length === 1 && second.input?.[0] === out && (isQ ? isOp(second, 'DequantizeLinear') : isOp(second, 'Cast') && intAttr(second, 'to') === ONNX_FLOAT);
    if (!ok || (g.output ?? []).some((o) => o.name === out)) fail(`${where(n)}: a stored activation must go to its ${isQ ? 'DequantizeLinear' : 'Cast back to float'} alone`);
    if (consumers(n.input![0]).length !== 1) fail(`${where(n)}: its input ${quote(n.input![0])} goes elsewhere too (a stored activation replaces the value it stores)`);
    const users = consumers(second.output?.[0] ?? '');
    if (users.length !== 1 || !(isOp(users[0], 'Gemm') || isOp(users[0], 'MatMul'))) fail(`${where(second)}: a stored activation must feed one Gemm or MatMul`);
    const producer = nodes.find((p) => (p.output ?? []).includes(n.input![0]));
    if (!producer || !['Relu', 'PRelu', 'Max', 'Gemm', 'MatMul'].some((op) => isOp(producer, op))) fail(`${where(n)}: a stored activation must follow a layer's Gemm, MatMul or activation`);
    const u8 = isQ ? uint8Store(g, n, second, where(n)) : null;
    const store: Pair['store'] = u8?.kind === 'uint8' ? { ...u8, ...biasStep(g, users[0], second.output![0], u8.scale, where(users[0])) } : { kind: 'float16' };
    pairs.push({ first: n, second, store });
    taken.add(n).add(second);
  }
  const stray = nodes.find((n) => onData(n) && !taken.has(n) && (isOp(n, 'QuantizeLinear') || isOp(n, 'DequantizeLinear')));
  if (stray) fail(`${where(stray)}: a QuantizeLinear / DequantizeLinear on the data path outside a stored activation pair`);
  return pairs;
}

const sameLayer = (a: Layer, b: Layer): boolean =>
  a.inSize === b.inSize && a.outSize === b.outSize && a.weights.every((w, i) => Object.is(w, b.weights[i])) && a.bias.every((v, i) => Object.is(v, b.bias[i])) && a.relu.every((r, i) => r === b.relu[i]);

/**
 * The chain of an ONNX file with its stored activations: null when there are none (the caller reads it as usual).
 * The network is the file without the pairs; act[k] says how layer k's output is stored.
 */
export function readStoredActivations(bytes: Uint8Array, path: string): { model: LoadedModel; act: ActScheme } | null {
  const model = decodeOnnx(bytes, path);
  const g = model.graph;
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (g.input ?? []).filter((v) => !inits.has(v.name ?? ''));
  if (inputs.length !== 1) return null; // the chain reader says what is wrong
  const pairs = findPairs(g, dataTensors(g, inputs[0].name ?? ''), path);
  if (!pairs.length) return null;
  if (inputs[0].type?.tensor_type?.elem_type !== ONNX_FLOAT) fail(`${path}: stored activations need a float32 data input`);
  // without the pairs: each one's consumer reads the pair's input
  const dropped = new Set(pairs.flatMap((p) => [p.first, p.second]));
  const rename = new Map(pairs.map((p) => [p.second.output![0], p.first.input![0]]));
  const nodes = (g.node ?? []).filter((n) => !dropped.has(n)).map((n) => ({ ...n, input: (n.input ?? []).map((t) => rename.get(t) ?? t) }));
  const stripped = { ...model, graph: { ...g, node: nodes } };
  const whole = parseOnnx(encodeModel(stripped), path);
  const act = floatScheme(whole.network);
  for (const p of pairs) {
    const at = p.first.input![0];
    const after = dataTensors({ node: nodes }, at);
    after.delete(at);
    const cut = { ...g, node: nodes.filter((n) => !(n.input ?? []).some((t) => t === at || after.has(t))), output: [{ ...(g.output?.[0] ?? {}), name: at }] };
    const prefix = parseOnnx(encodeModel({ ...stripped, graph: cut }), path).network;
    const k = prefix.layers.length - 1;
    const where = `${path}: node ${quote(p.first.name || at)} (${p.first.op_type})`;
    if (k >= whole.network.layers.length - 1 || !prefix.layers.every((L, i) => sameLayer(L, whole.network.layers[i]))) fail(`${where}: does not sit between two layers of the chain`);
    if (p.store.kind === 'uint8' && !prefix.layers[k].relu.every((r) => r === 1)) fail(`${where}: a uint8 activation after layer ${k + 1}, whose neurons are not all ReLU (negative values would be clipped)`);
    if (act[k].kind !== 'float32') fail(`${where}: layer ${k + 1}'s output is stored twice`);
    act[k] = p.store;
  }
  return { model: whole, act };
}
