/**
 * `prune ... --quantize float16|int8`: prune f to g (float, written beside the output as OUT.pruned.onnx, since the
 * quantisation's proof is about g as stored), quantise g to q (the output), and claim end to end
 * max |f - q| <= D + E: D the prune's proved bound (its tolerance, or the exact prune's rounding slack), E the
 * smallest bound the quantisation proves (bisection). One certificate holds both parts; `check` re-proves each from
 * the files and checks that they chain (prune-quantize-check.ts). A class claim does not add up this way: refused.
 */
import { rmSync } from 'node:fs';
import type { LoadedModel } from '../formats/model-file.ts';
import { writeFilesAtomic } from '../formats/atomic.ts';
import { claimOf } from '../simplify/final-check.ts';
import type { Certificate } from '../simplify/certificate.ts';
import type { QuantCertificate } from '../simplify/quantize/certificate.ts';
import type { QuantTarget } from '../simplify/quantize/values.ts';
import { NnsError, fail } from '../errors.ts';
import { VERSION } from '../version.ts';
import { pruneChainRun, type ChainPruneAsk, type ChainPruneRun } from './prune-chain.ts';
import { quantizeRun, type Quantized } from './quantize.ts';
import { chainPruneAsk, type PruneOptions } from './prune.ts';
import { throwIfAborted } from './run.ts';

export const PRUNE_QUANT_FORMAT = 'nnshrink-prune-quantize-certificate';

/** The combined certificate: the claim about f and q, and the two parts it is made of, each as written alone. */
export interface PruneQuantCertificate {
  format: typeof PRUNE_QUANT_FORMAT;
  version: 1;
  tool: string;
  createdAt: string;
  /** max |f - q| <= epsilon = D + E, rounded up */
  epsilon: number;
  claim: string;
  prune: Certificate;
  quantize: QuantCertificate;
}

export interface QuantizeAsk {
  to: QuantTarget;
  perChannel?: boolean;
}

export interface PruneQuantRun {
  prune: ChainPruneRun;
  quant: Quantized;
  certificate: PruneQuantCertificate;
  /** the pruned float network's path (written by the run, kept) */
  pruned: string;
  /** the files still to write as one set: q, then the certificate */
  files: Array<{ path: string; data: Uint8Array | string }>;
}

/** Where the float pruned network goes: OUT.onnx -> OUT.pruned.onnx. */
export const prunedPath = (output: string): string => output.replace(/\.onnx$/i, '') + '.pruned.onnx';

/** a + b (both >= 0) rounded up: the float sum errs by at most half an ulp, so one ulp more covers the exact sum */
export function sumUp(a: number, b: number): number {
  const s = a + b;
  return s + s * Number.EPSILON + Number.MIN_VALUE;
}

export const combinedClaim = (eps: number): string => `max |f(x) - q(x)| <= ${eps} for every output and every x in the domain, q evaluated in float32 (any summation order) on the stored numbers`;

export async function pruneQuantizeRun(model: LoadedModel, a: ChainPruneAsk, ask: QuantizeAsk): Promise<PruneQuantRun> {
  if (a.tolerance.kind === 'class') fail('prune --quantize: a class claim does not add up over two steps; give --epsilon E (or none: exact)');
  if (!/\.onnx$/i.test(a.output)) fail(`-o ${a.output}: prune --quantize writes ONNX (a .onnx path)`);
  const pruned = prunedPath(a.output);
  const p = await pruneChainRun(model, { ...a, output: pruned });
  // g is written now: the quantisation reads it from its file (its part names g by its bytes' hash); gone again
  // if the quantisation is not proved
  writeFilesAtomic([p.files[0]]);
  try {
    const q = await quantizeRun(pruned, 'raw', () => a.domain, {
      to: ask.to,
      perChannel: ask.perChannel === true,
      tolerance: { kind: 'auto' },
      output: a.output,
      certificate: a.certificate,
      timeoutMs: a.timeoutMs * 4,
      ...(a.maxBoxes !== undefined ? { maxBoxes: a.maxBoxes } : {}),
      ...(a.signal ? { signal: a.signal } : {}),
      ...(a.onProgress ? { onProgress: a.onProgress } : {}),
    });
    if ('notProved' in q) throw new NnsError(`the quantisation of the pruned network: ${q.notProved.message}`, { code: 'not-proved' });
    const D = claimOf(p.certificate.tolerance, p.certificate.floatingPoint.exactTolerance).epsilon!;
    const epsilon = sumUp(D, q.proved.epsilon);
    const certificate: PruneQuantCertificate = {
      format: PRUNE_QUANT_FORMAT,
      version: 1,
      tool: `nnshrink ${VERSION}`,
      createdAt: new Date().toISOString(),
      epsilon,
      claim: combinedClaim(epsilon),
      prune: p.certificate,
      quantize: q.proved.certificate,
    };
    const files = [q.files[0], { path: a.certificate, data: JSON.stringify(certificate, null, 1) + '\n' }];
    return { prune: p, quant: q.proved, certificate, pruned, files };
  } catch (e) {
    rmSync(pruned, { force: true });
    throw e;
  }
}

/** The options of {@link pruneAndQuantize}: prune's (it always writes: the quantisation reads the pruned file), and the target. */
export interface PruneQuantizeOptions extends Omit<PruneOptions, 'write'> {
  quantize: QuantizeAsk;
}

/**
 * Prunes a chain, writes the float pruned network as OUT.pruned.onnx, quantises it to `output` and writes the
 * certificate of max |f - q| <= D + E (`check` re-proves it). Rejects with an NnsError: `not-proved` or `refuted`
 * (nothing left written: the pruned file is removed again), `bad-input` (a class tolerance among them), or `aborted`.
 */
export async function pruneAndQuantize(model: LoadedModel, options: PruneQuantizeOptions): Promise<{ certificate: PruneQuantCertificate; epsilon: number; pruned: string; bytes: number }> {
  const ask = chainPruneAsk(model, options, [{ path: prunedPath(options.output), what: 'the pruned network' }]);
  const r = await pruneQuantizeRun(model, ask, options.quantize);
  throwIfAborted(options.signal);
  writeFilesAtomic(r.files);
  return { certificate: r.certificate, epsilon: r.certificate.epsilon, pruned: r.pruned, bytes: r.quant.sizes.bytes };
}
