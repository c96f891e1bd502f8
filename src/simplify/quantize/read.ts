/**
 * A chain (NNet, JSON, or an ONNX file that is a fully-connected chain) read from the very bytes its certificate
 * hashes; '<default>' is the embedded default network, named by the hash of its numbers. A graph (a CNN) is refused:
 * quantisation of graphs is a later step. A file with stored activations (read-act.ts) gives their scheme too.
 */
import { fail } from '../../errors.ts';
import { defaultModel } from '../../demo/default-network.ts';
import { formatOf, parseAnyOnnx } from '../../formats/load.ts';
import { parseJsonNetwork } from '../../formats/json.ts';
import type { LoadedModel } from '../../formats/model-file.ts';
import { nnetModel, parseNNet } from '../../formats/nnet.ts';
import { readInputFile } from '../../formats/read-text.ts';
import { networkHash } from '../../model/hash.ts';
import { sha256Of } from '../graph/certificate.ts';
import type { ActScheme } from './activations.ts';
import { readStoredActivations } from './read-act.ts';

export const DEFAULT_PATH = '<default>';

export function readChain(path: string, view: 'raw' | 'normalized' = 'raw'): { model: LoadedModel; sha256: string; act?: ActScheme } {
  if (path === DEFAULT_PATH) {
    const model = defaultModel();
    return { model, sha256: networkHash(model.network) };
  }
  const fmt = formatOf(path);
  const buf = readInputFile(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const sha256 = sha256Of(bytes);
  if (fmt === 'json') return { model: parseJsonNetwork(buf.toString('utf8'), path), sha256 };
  if (fmt === 'nnet') return { model: nnetModel(parseNNet(buf.toString('utf8'), path), path, view), sha256 };
  const stored = readStoredActivations(bytes, path);
  if (stored) return { model: stored.model, sha256, act: stored.act };
  const any = parseAnyOnnx(bytes, path);
  if (any.kind === 'graph') fail(`${path}: a graph network (convolutions or branches); quantize takes fully-connected chains for now`);
  return { model: any.model, sha256 };
}
