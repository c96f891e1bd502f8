/**
 * What a quantisation's report page needs beside its certificate: the network's layer sizes and the files' bytes
 * (the original as given, the same numbers as float32 ONNX, the quantised file), for `quantize --report` from the
 * run and for `check --report` from the files the certificate names.
 */
import { statSync } from 'node:fs';
import { onnxBytes } from '../formats/onnx-write.ts';
import type { Network } from '../model/network.ts';
import { boxFromJSON } from '../model/box.ts';
import { pathFromCertificate } from '../simplify/certificate.ts';
import type { QuantCertificate } from '../simplify/quantize/certificate.ts';
import { DEFAULT_PATH, readChain } from '../simplify/quantize/read.ts';
import { isGraphQuantCertificate } from '../simplify/quantize/graph-check.ts';
import type { Quantized } from '../api/quantize.ts';
import { quantizeReport, type QuantReportInput } from '../report/quantize.ts';
import { VERSION } from '../version.ts';

import type { Graph } from '../model/graph/types.ts';

/** A chain's layer sizes; a graph's page has no per-layer table (its nodes are not a chain of layers) */
const sizesOf = (f: Network | Graph): number[] => ('nodes' in f ? [] : [f.inputSize, ...f.layers.map((L) => L.outSize)]);
const bytesAt = (path: string): number | undefined => (path === DEFAULT_PATH ? undefined : statSync(path).size);

/** `quantize --report R.html`: the page as one more file of the set the command writes (none without --report). */
export function quantizeReportFile(report: unknown, q: Quantized, certPath: string, inPath: string): Array<{ path: string; data: string }> {
  if (typeof report !== 'string') return [];
  const original = bytesAt(inPath);
  const files = { ...(original !== undefined ? { original } : {}), float32: q.sizes.float32Bytes, stored: q.sizes.bytes };
  return [{ path: report, data: quantizeReport({ cert: q.certificate, certificatePath: certPath, layerSizes: sizesOf(q.network), files, version: VERSION }) }];
}

/** `check --report` of a quantisation certificate: the layer sizes and bytes of the files it names, as stored. */
export function checkedQuantFiles(certPath: string, cert: QuantCertificate): Pick<QuantReportInput, 'layerSizes' | 'files'> {
  const at = (p: string): string => pathFromCertificate(certPath, p);
  // a graph's page has the two files' sizes and no layer table
  if (isGraphQuantCertificate(cert)) return { layerSizes: [], files: { original: statSync(at(cert.input.path)).size, stored: statSync(at(cert.output.path)).size } };
  const { model } = readChain(at(cert.input.path), cert.input.view);
  const domain = cert.domain.length === 1 ? { domain: boxFromJSON(cert.domain[0], model.network.inputSize, certPath) } : {};
  // as quantize measures it: the original's numbers written as float32 ONNX with its names and shape
  const float32 = onnxBytes(model.network, { ...domain, ...(model.inputShape ? { inputShape: model.inputShape } : {}), ...(model.onnx ? { source: model.onnx } : {}), precision: 'float32' }).length;
  const original = bytesAt(at(cert.input.path));
  return { layerSizes: sizesOf(model.network), files: { ...(original !== undefined ? { original } : {}), float32, stored: statSync(at(cert.output.path)).size } };
}
