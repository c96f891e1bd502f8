/** Format dispatch by file extension: .nnet, .onnx, .json. In-memory variants serve "check what will be written". */
import type { Network } from '../model/network.ts';
import { fail, NnsError } from '../errors.ts';
import type { LoadedModel, ModelFormat, SaveOptions } from './model-file.ts';
import { parseNNet, readNNet, nnetText } from './nnet.ts';
import { decodeOnnx, FAMILY_ONNX_KEY, onnxSourceOf, parseOnnx, readOnnx } from './onnx-read.ts';
import { modelToGraph } from './onnx-graph/read.ts';
import type { Graph } from '../model/graph/types.ts';
import { graphToChain, isChain } from '../model/graph/chain.ts';
import { onnxBytes } from './onnx-write.ts';
import { jsonNetworkText, parseJsonNetwork } from './json.ts';
import { readInputFile } from './read-text.ts';
import { writeFileAtomic } from './atomic.ts';

export const EXTENSIONS = ['.nnet', '.onnx', '.json'];

/** The format a path's extension names (throws NnsError for any other). */
export function formatOf(path: string): ModelFormat {
  const p = path.toLowerCase();
  if (p.endsWith('.nnet')) return 'nnet';
  if (p.endsWith('.onnx')) return 'onnx';
  if (p.endsWith('.json')) return 'json';
  fail(`${path}: unknown model format (supported extensions: ${EXTENSIONS.join(', ')})`);
}

export function loadModel(path: string, opts: { view?: 'raw' | 'normalized' } = {}): LoadedModel {
  const fmt = formatOf(path);
  if (fmt === 'nnet') return readNNet(path, opts.view ?? 'raw');
  if (fmt === 'onnx') return readOnnx(path);
  return parseJsonNetwork(readInputFile(path).toString('utf8'), path);
}

/** A model as the commands take it: a chain (the fast path: every verifier of src/verify) or a graph. */
/** A graph keeps the bytes it was read from (a certificate hashes exactly what was read). */
export type AnyModel = { kind: 'chain'; model: LoadedModel } | { kind: 'graph'; graph: Graph; path: string; bytes: Uint8Array };

/**
 * Any model file. NNet and JSON are chains; an ONNX file is read by the chain reader first (the fast path, and the
 * nnshrink metadata it reads), and when that refuses it (an operator or a layout it does not take) by the graph
 * reader; a graph that is a fully-connected chain still becomes a chain. When both refuse, the graph reader's error
 * is the one shown: it reads more, so its complaint is the real one (an unsupported operator, named with its node).
 */
export function loadAnyModel(path: string, opts: { view?: 'raw' | 'normalized' } = {}): AnyModel {
  if (formatOf(path) !== 'onnx') return { kind: 'chain', model: loadModel(path, opts) };
  const buf = readInputFile(path);
  return parseAnyOnnx(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

/** ONNX bytes as a chain when they are one, else as a graph (see loadAnyModel). */
export function parseAnyOnnx(bytes: Uint8Array, path: string): AnyModel {
  const decoded = decodeOnnx(bytes, path); // a file that is not ONNX at all fails here, once
  // a file nnshrink wrote (its metadata: a domain, a slice family) is a chain: the chain reader's verdict stands, so
  // a bad stored domain is refused and not read past by the graph reader, which ignores the metadata
  if (decoded.metadata_props?.some((m) => m.key?.startsWith('nnshrink.') || m.key === FAMILY_ONNX_KEY)) return { kind: 'chain', model: parseOnnx(bytes, path) };
  try {
    return { kind: 'chain', model: parseOnnx(bytes, path) };
  } catch (e) {
    if (!(e instanceof NnsError)) throw e;
  }
  const graph = modelToGraph(decoded, path);
  if (!isChain(graph)) return { kind: 'graph', graph, path, bytes };
  const inputShape = typeof graph.input.batch === 'number' ? [graph.input.batch, ...graph.input.shape] : [1, ...graph.input.shape];
  // the same source facts as the chain reader's (names, batch, opset, element type), so the chain writes back drop-in
  const onnx = onnxSourceOf(decoded);
  return { kind: 'chain', model: { network: graphToChain(graph), format: 'onnx', path, inputShape, ...(onnx ? { onnx } : {}) } };
}

/** The bytes a model file of this format would hold. */
export function modelBytes(net: Network, fmt: ModelFormat, opts: SaveOptions = {}): Uint8Array | string {
  if (fmt === 'nnet') return nnetText(net, { domain: opts.domain });
  if (fmt === 'onnx') return onnxBytes(net, opts);
  return jsonNetworkText(net, opts);
}

/** Parses bytes of a given format back into a network: what a reader of the written file will get. */
export function parseModelBytes(data: Uint8Array | string, fmt: ModelFormat, path: string): LoadedModel {
  if (fmt === 'nnet') {
    const p = parseNNet(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'), path);
    return { network: p.raw, domain: p.hasDomain ? p.domain : undefined, format: 'nnet', path, nnet: p.norm, view: 'raw' };
  }
  if (fmt === 'onnx') return parseOnnx(typeof data === 'string' ? Buffer.from(data) : data, path);
  return parseJsonNetwork(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'), path);
}

export function saveModel(net: Network, path: string, opts: SaveOptions = {}): void {
  writeFileAtomic(path, modelBytes(net, formatOf(path), opts));
}
