/**
 * Models in and out: `loadModel` and `loadAnyModel` take a path or the file's bytes; `saveModel` writes a chain or
 * a graph (the format from the path's extension), atomically. Synchronous: reading and writing are not long work.
 */
import { formatOf, loadAnyModel as loadAnyPath, loadModel as loadPath, modelBytes, parseAnyOnnx, type AnyModel } from '../formats/load.ts';
import type { LoadedModel, ModelFormat, SaveOptions } from '../formats/model-file.ts';
import { nnetModel, parseNNet } from '../formats/nnet.ts';
import { parseOnnx } from '../formats/onnx-read.ts';
import { parseJsonNetwork } from '../formats/json.ts';
import { writeFileAtomic } from '../formats/atomic.ts';
import { encodeGraphOnnx, type GraphWriteOptions } from '../formats/onnx-graph/write.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Network } from '../model/network.ts';
import { fail } from '../errors.ts';
import type { Model } from './prune.ts';

/** How bytes are read: their format (default: from `path`'s extension, else ONNX, JSON or NNet by their first bytes). */
export interface LoadOptions {
  /** how an NNet file's units are read (default raw) */
  view?: 'raw' | 'normalized';
  /** the format of bytes given */
  format?: ModelFormat;
  /** what messages and certificates call bytes given (default `<bytes>`); a certificate names the model by it */
  path?: string;
}

/** ONNX is protobuf (binary); JSON starts with `{`; anything else is read as NNet text. */
function sniff(bytes: Uint8Array): ModelFormat {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b) return 'json';
  const head = bytes.subarray(0, 512);
  return head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20)) ? 'onnx' : 'nnet';
}

function formatFor(bytes: Uint8Array, o: LoadOptions): ModelFormat {
  if (o.format) return o.format;
  return o.path && /\.(nnet|onnx|json)$/i.test(o.path) ? formatOf(o.path) : sniff(bytes);
}

/**
 * A chain model (dense layers) from a .nnet, .onnx or .json path, or from a file's bytes. A graph ONNX (a CNN) is
 * refused here: {@link loadAnyModel} reads both kinds.
 * @throws NnsError (code `bad-input`, `file`, `place`) naming what is wrong
 */
export function loadModel(source: string | Uint8Array, opts: LoadOptions = {}): LoadedModel {
  if (typeof source === 'string') return loadPath(source, opts);
  const path = opts.path ?? '<bytes>';
  const fmt = formatFor(source, opts);
  const text = (): string => Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
  if (fmt === 'onnx') return parseOnnx(source, path);
  if (fmt === 'json') return parseJsonNetwork(text(), path);
  return nnetModel(parseNNet(text(), path), path, opts.view ?? 'raw');
}

/**
 * Any model, from a path or bytes: a chain (`kind: 'chain'`, the fast path) or, for an ONNX graph that is not a
 * chain, a graph (`kind: 'graph'`, with the bytes a certificate hashes).
 */
export function loadAnyModel(source: string | Uint8Array, opts: LoadOptions = {}): AnyModel {
  if (typeof source === 'string') return loadAnyPath(source, opts);
  const fmt = formatFor(source, opts);
  if (fmt !== 'onnx') return { kind: 'chain', model: loadModel(source, { ...opts, format: fmt }) };
  return parseAnyOnnx(source, opts.path ?? '<bytes>');
}

/** How {@link saveModel} writes: a chain's options (domain, precision, ...) or a graph's (precision, opset). */
export type SaveModelOptions = SaveOptions & GraphWriteOptions;

const isGraph = (m: unknown): m is Graph => typeof m === 'object' && m !== null && 'nodes' in m;

/** The bytes {@link saveModel} writes: ONNX for a graph, else the format of `path`'s extension. */
export function modelFileBytes(model: Network | Graph | Model, path: string, opts: SaveModelOptions = {}): Uint8Array | string {
  if (isGraph(model)) {
    if (formatOf(path) !== 'onnx') fail(`${path}: a graph network is written as ONNX (.onnx)`);
    return encodeGraphOnnx(model, opts);
  }
  if ('kind' in model) return model.kind === 'graph' ? modelFileBytes(model.graph, path, opts) : modelFileBytes(model.model, path, opts);
  if ('network' in model) {
    const source = formatOf(path) === 'onnx' && model.onnx ? { source: model.onnx } : {};
    return modelBytes(model.network, formatOf(path), { ...(model.domain ? { domain: model.domain } : {}), ...(model.inputShape ? { inputShape: model.inputShape } : {}), ...source, ...opts });
  }
  return modelBytes(model, formatOf(path), opts);
}

/** Writes a network, a graph or a loaded model to `path` (.nnet, .onnx or .json; a graph as .onnx), atomically. */
export function saveModel(model: Network | Graph | Model, path: string, opts: SaveModelOptions = {}): void {
  writeFileAtomic(path, modelFileBytes(model, path, opts));
}
