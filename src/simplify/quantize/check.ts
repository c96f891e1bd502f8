/**
 * `check` of a quantisation certificate: the two files it names are read as stored (their bytes must be the ones it
 * hashed; the quantised one through the readers' folding of Cast and DequantizeLinear, the values onnxruntime
 * computes), then its claim is proved afresh from the files and the domain alone: 100,000 samples first (any that
 * contradicts the claim refutes it, and no proof runs), then the proof from scratch (prove.ts). The certificate's
 * proof figures and what it says was quantised are not used: g may be any chain of f's layer sizes, its stored
 * activations (kind, place and scale) read from the file itself (read-act.ts).
 */
import { fail } from '../../errors.ts';
import { sameLayerSizes, type Network } from '../../model/network.ts';
import { pathFromCertificate } from '../certificate.ts';
import { sampleCompareParallel, type SamplingResult } from '../sample-compare.ts';
import { defaultWorkers } from '../../pool/pool.ts';
import { crownBounds } from '../../bounds/backward.ts';
import { outputLinearLower } from '../../bounds/objective.ts';
import { claimText, quantDomain, validateQuantCertificate } from './certificate.ts';
import { proveQuantized, proveQuantizedClass, type QuantProof } from './prove.ts';
import { DEFAULT_PATH, readChain } from './read.ts';
import { float32Rounding } from './rounding.ts';
import { actClaim, type ActScheme } from './activations.ts';

export const QUANT_CHECK_SAMPLES = 100_000;
const CHECK_SEED = 4242;

export interface QuantCheckResult {
  claim: string;
  verdict: { status: 'proved' | 'refuted' | 'unknown'; method: string; timeMs: number; reason?: string };
  sampling: SamplingResult;
  proof?: QuantProof;
  witness?: number[];
}

export interface QuantCheckOptions {
  timeoutMs: number;
  /** the proof's work limit (default: the certificate's, a limit and not a fact) */
  maxBoxes?: number;
  samples?: number;
  onProgress?: (step: string, done: number, total: number) => void;
}

export async function checkQuantCertificate(obj: unknown, certPath: string, opts: QuantCheckOptions): Promise<QuantCheckResult> {
  const cert = validateQuantCertificate(obj, certPath);
  const read = (p: string, sha: string, what: string, view?: 'raw' | 'normalized'): { net: Network; act?: ActScheme } => {
    const file = p === DEFAULT_PATH ? p : pathFromCertificate(certPath, p);
    const r = readChain(file, view);
    if (r.sha256 !== sha) fail(`${file}: the ${what} differs from the one the certificate was made for (sha256 mismatch)`);
    return { net: r.model.network, act: r.act };
  };
  const original = read(cert.input.path, cert.input.sha256, 'original', cert.input.view);
  if (original.act) fail(`${certPath}: the original ${cert.input.path} stores quantised activations; the original must be a plain network`);
  const f = original.net;
  const { net: g, act } = read(cert.output.path, cert.output.sha256, 'quantised network');
  if (!sameLayerSizes(f, g)) fail(`${certPath}: the quantised network's layer sizes differ from the original's`);
  const domain = quantDomain(cert, f.inputSize, certPath);
  const t = cert.tolerance;
  const claim = claimText(t) + actClaim(act);
  const t0 = Date.now();
  const sampling = await sampleCompareParallel(
    { f, g, domain, tolerance: t, count: opts.samples ?? QUANT_CHECK_SAMPLES, seed: CHECK_SEED, onSampled: (d, n) => opts.onProgress?.('check: sampling', d, n) },
    defaultWorkers(),
  );
  // sampled in float64 on g's numbers (within far less than R of the exact values): a float32 evaluation is within
  // R of those, so a sample beyond epsilon + R contradicts the claim itself; class: only without rounding
  const R = float32Rounding(g, domain, crownBounds, act);
  const contradicted = t.kind === 'linf' ? !(sampling.maxAbsDiff <= t.epsilon + R) : R === 0 && (sampling.classDisagreements ?? 0) > 0;
  if (contradicted) {
    return { claim, sampling, witness: sampling.worst, verdict: { status: 'refuted', method: 'sampling', timeMs: Date.now() - t0 } };
  }
  opts.onProgress?.('check: proof', 0, 1);
  const proveOpts = { boundsFn: crownBounds, outputLinearLower, timeoutMs: opts.timeoutMs, maxBoxes: opts.maxBoxes ?? cert.proof?.maxBoxes, seed: CHECK_SEED, act };
  const proof = t.kind === 'linf' ? proveQuantized(f, g, domain, t.epsilon, proveOpts, R) : proveQuantizedClass(f, g, domain, t.order, t.margin, proveOpts, R);
  return {
    claim,
    sampling,
    proof,
    ...(proof.witness && proof.status === 'refuted' ? { witness: proof.witness } : {}),
    verdict: { status: proof.status, method: 'quantized diff', timeMs: Date.now() - t0, ...(proof.reason ? { reason: proof.reason } : {}) },
  };
}
