/**
 * A prune certificate with the two networks it names, loaded and matched by hash: what `check` re-proves, and what
 * lets `equiv` pair a pruned network with its original in the original's coordinates (the layer-by-layer
 * difference) instead of treating the two as strangers.
 */
import { existsSync } from 'node:fs';
import { fail } from '../errors.ts';
import { loadModel } from '../formats/load.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import { readInputFile } from '../formats/read-text.ts';
import { networkHash } from '../model/hash.ts';
import type { Network } from '../model/network.ts';
import { nnetUnpair } from '../formats/nnet.ts';
import { checkedDomain, fixedExactSlack, parseCertificate, pathFromCertificate, type Certificate } from '../simplify/certificate.ts';
import type { WrittenPrune } from '../simplify/final-check.ts';
import type { Box } from '../model/box.ts';
import { editsFromJSON, type Edits } from '../simplify/edits.ts';
import { defaultModel } from '../demo/default-network.ts';

/** A certificate with the two networks it names, loaded and matched by hash, and its domain checked. */
export interface Certified {
  cert: Certificate;
  /** the original, as the certificate's input names it */
  input: LoadedModel;
  /** the pruned network as written (ReLU pairs of an NNet file put back together) */
  output: Network;
  edits: Edits;
  /** the domain the claim is about, checked against the original (one finite interval per input, lo <= hi) */
  domain: Box[];
  /** the fixed slack of "exact" for these networks and this domain (recomputed, not read from the file) */
  exactSlack: number;
}

/** The pruning as the certificate states it, over the network as stored: what the final check pairs f with. */
export function writtenPrune(c: { cert: Certificate; edits: Edits }, written: Network): WrittenPrune {
  return { edits: c.edits, steps: c.cert.steps, written, groups: c.cert.groups, basisReduced: c.cert.basisReduced === true };
}

/** The written network in the certificate's terms: an NNet file's ReLU pairs put back together. */
function asCertified(cert: Certificate, stored: Network, where: string): Network {
  return cert.output.reluPairs ? nnetUnpair(stored, cert.output.reluPairs, where) : stored;
}

function readCertificate(path: string): Certificate {
  return parseCertificate(readInputFile(path).toString('utf8'), path);
}

/** Loads a certificate (or takes the one the caller has read and validated already) and the networks it names; a
 * network that differs from the one it describes is an error. */
export function readCertified(path: string, given?: Certificate): Certified {
  const cert = given ?? readCertificate(path);
  const inputPath = pathFromCertificate(path, cert.input.path);
  const outputPath = pathFromCertificate(path, cert.output.path);
  const input = inputPath === '<default>' ? defaultModel() : loadModel(inputPath, { view: cert.input.view === 'normalized' ? 'normalized' : 'raw' });
  if (networkHash(input.network) !== cert.input.sha256) fail(`${inputPath}: the network differs from the one the certificate was made for (hash mismatch)`);
  const output = asCertified(cert, loadModel(outputPath).network, outputPath);
  if (networkHash(output) !== cert.output.sha256) fail(`${outputPath}: the network differs from the one the certificate describes (hash mismatch)`);
  const domain = checkedDomain(cert, input.network, output, path);
  return { cert, input, output, edits: editsFromJSON(cert.edits, input.network, path), domain, exactSlack: fixedExactSlack(cert, input.network, output, domain, path) };
}

/**
 * The certificate pairing original `a` with pruned `b` (given, or found next to b as prune writes it), or null when
 * there is none or it describes other networks; a certificate given explicitly that does not match is an error.
 */
export function certificateFor(a: Network, b: Network, bPath: string, given?: string): { path: string; cert: Certificate; written: Network; edits: Edits } | null {
  const path = given ?? `${bPath}.certificate.json`;
  if (!given && !existsSync(path)) return null;
  const cert = readCertificate(path);
  let written: Network | null = null;
  try {
    written = asCertified(cert, b, bPath);
  } catch (e) {
    if (given) throw e;
  }
  if (!written || networkHash(a) !== cert.input.sha256 || networkHash(written) !== cert.output.sha256) {
    if (given) fail(`${path}: the certificate describes other networks than A and B (hash mismatch)`);
    return null;
  }
  return { path, cert, written, edits: editsFromJSON(cert.edits, a, path) };
}
