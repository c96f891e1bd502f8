/**
 * `check` of a graph quantisation certificate: the two files it names are read as stored (their bytes must be the
 * ones it hashed; the quantised one through the graph reader's folding of Cast and DequantizeLinear, the values
 * onnxruntime computes), then its claim is proved afresh from the files and the domain alone: samples first (one
 * beyond epsilon + R, the float32 rounding bound, contradicts the claim itself, and no proof runs), then the proof
 * from scratch (graph-prove.ts). The certificate's figures and what it says was quantised are not used.
 */
import { fail } from '../../errors.ts';
import { readInputFile } from '../../formats/read-text.ts';
import { parseAnyOnnx } from '../../formats/load.ts';
import type { Graph } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { pathFromCertificate } from '../certificate.ts';
import { sha256Of } from '../graph/certificate.ts';
import { samplePairs } from '../graph/sample-pairs.ts';
import { withoutSoftmax } from '../../verify/graph/equiv-class.ts';
import { classChanged } from '../../verify/tolerance.ts';
import { claimText, quantDomain, validateQuantCertificate } from './certificate.ts';
import type { QuantCheckOptions, QuantCheckResult } from './check.ts';
import { graphFloat32Rounding } from './graph-rounding.ts';
import { proveGraphQuantized, proveGraphQuantizedClass } from './graph-prove.ts';

/** Samples of a graph check (each is two forward passes of a CNN). */
export const GRAPH_QUANT_CHECK_SAMPLES = 2000;
const CHECK_SEED = 4242;

/** Whether a quantisation certificate is about graphs (its own mark; both files are then read as graphs). */
export const isGraphQuantCertificate = (obj: unknown): boolean => (obj as { network?: unknown } | null)?.network === 'graph';

function readGraph(certPath: string, p: string, sha: string, what: string): Graph {
  const file = pathFromCertificate(certPath, p);
  const buf = readInputFile(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (sha256Of(bytes) !== sha) fail(`${file}: the ${what} differs from the one the certificate was made for (sha256 mismatch)`);
  const any = parseAnyOnnx(bytes, file);
  if (any.kind !== 'graph') fail(`${file}: the ${what} is not a graph network, as the certificate says`);
  return any.graph;
}

export async function checkGraphQuantCertificate(obj: unknown, certPath: string, opts: QuantCheckOptions): Promise<QuantCheckResult> {
  const cert = validateQuantCertificate(obj, certPath);
  const f = readGraph(certPath, cert.input.path, cert.input.sha256, 'original');
  const g = readGraph(certPath, cert.output.path, cert.output.sha256, 'quantised network');
  if (size(f.input.shape) !== size(g.input.shape) || size(f.output.shape) !== size(g.output.shape)) fail(`${certPath}: the quantised network's input or output size differs from the original's`);
  const domain = quantDomain(cert, size(f.input.shape), certPath);
  const t = cert.tolerance;
  const claim = claimText(t);
  const t0 = Date.now();
  const [fs, gs] = t.kind === 'class' ? [withoutSoftmax(f), withoutSoftmax(g)] : [f, g];
  const R = graphFloat32Rounding(gs, domain);
  let maxAbsDiff = 0;
  let disagree = 0;
  let worst: number[] | undefined;
  const points = samplePairs(fs, gs, domain, opts.samples ?? GRAPH_QUANT_CHECK_SAMPLES, CHECK_SEED, (x, a, b) => {
    const d = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    if (t.kind === 'class' && classChanged(a, b, t.order, t.margin) && disagree++ === 0) worst = Array.from(x);
    if (t.kind === 'linf' && !(d <= maxAbsDiff)) worst = Array.from(x);
    maxAbsDiff = Math.max(maxAbsDiff, Number.isNaN(d) ? Infinity : d);
  }, (d, n) => opts.onProgress?.('check: sampling', d, n));
  const sampling = { points, maxAbsDiff, ...(t.kind === 'class' ? { classDisagreements: disagree } : {}), ...(worst ? { worst } : {}) };
  // sampled in float64 on g's numbers: a float32 run is within R of those, so beyond epsilon + R contradicts the claim
  const contradicted = t.kind === 'linf' ? !(maxAbsDiff <= t.epsilon + R) : R === 0 && disagree > 0;
  if (contradicted) return { claim, sampling, witness: worst, verdict: { status: 'refuted', method: 'sampling', timeMs: Date.now() - t0 } };
  opts.onProgress?.('check: proof', 0, 1);
  const po = { timeoutMs: opts.timeoutMs, maxNodes: opts.maxBoxes ?? cert.proof?.maxBoxes, seed: CHECK_SEED };
  const proof = t.kind === 'linf' ? proveGraphQuantized(f, g, domain, t.epsilon, po, R) : proveGraphQuantizedClass(f, g, domain, t.order, t.margin, po, R);
  return {
    claim,
    sampling,
    proof,
    ...(proof.witness && proof.status === 'refuted' ? { witness: proof.witness } : {}),
    verdict: { status: proof.status, method: 'graph quantized diff', timeMs: Date.now() - t0, ...(proof.reason ? { reason: proof.reason } : {}) },
  };
}
