/** Format dispatch by file extension: .nnet, .onnx, .json. In-memory variants serve "check what will be written". */
import type { Network } from '../model/network.ts';
import { fail } from '../errors.ts';
import type { LoadedModel, ModelFormat, SaveOptions } from './model-file.ts';
import { parseNNet, readNNet, nnetText } from './nnet.ts';
import { parseOnnx, readOnnx } from './onnx-read.ts';
import { onnxBytes } from './onnx-write.ts';
import { jsonNetworkText, parseJsonNetwork } from './json.ts';
import { readInputFile } from './read-text.ts';
import { writeFileAtomic } from './atomic.ts';

export const EXTENSIONS = ['.nnet', '.onnx', '.json'];

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
