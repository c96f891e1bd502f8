/**
 * `check` of a prune-and-quantise certificate: its two parts re-proved from the files as any prune and any
 * quantisation certificate is (f -> g within D, g -> q within E), and checked to chain: the quantised network is of
 * the pruned file (the same path; each part checks its own hash of it), on the same domain, with a claim no tighter
 * than D + E. Proved only when both parts are.
 */
import { fail } from '../errors.ts';
import { certificateFromJson, pathFromCertificate } from '../simplify/certificate.ts';
import { claimOf } from '../simplify/final-check.ts';
import { validateQuantCertificate } from '../simplify/quantize/certificate.ts';
import { checkQuantCertificate, type QuantCheckResult } from '../simplify/quantize/check.ts';
import type { VerdictStatus } from '../verify/verdict.ts';
import { readCertified } from './certified.ts';
import { checkChain, type ChainCheckResult } from './check-chain.ts';
import { combinedClaim, PRUNE_QUANT_FORMAT, sumUp, type PruneQuantCertificate } from './prune-quantize.ts';
import type { RunOptions } from './run.ts';

export interface PruneQuantCheck {
  claim: string;
  verdict: { status: VerdictStatus; method: string; timeMs: number };
  prune: ChainCheckResult;
  quantize: QuantCheckResult;
}

export function validatePruneQuant(obj: unknown, path: string): PruneQuantCertificate {
  const o = obj as Record<string, unknown>;
  if (o.format !== PRUNE_QUANT_FORMAT || o.version !== 1) fail(`${path}: not a version 1 ${PRUNE_QUANT_FORMAT}`);
  const eps = o.epsilon;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) fail(`${path}: epsilon must be a finite number >= 0`);
  const prune = certificateFromJson(o.prune, `${path} (its prune part)`);
  const quantize = validateQuantCertificate(o.quantize, `${path} (its quantisation part)`);
  if (quantize.tolerance.kind !== 'linf') fail(`${path}: its quantisation part must claim a bound (epsilon), not a class`);
  if (pathFromCertificate(path, prune.output.path) !== pathFromCertificate(path, quantize.input.path)) fail(`${path}: the quantised network is not of the pruned one (${quantize.input.path} is not ${prune.output.path})`);
  if (JSON.stringify(prune.domain) !== JSON.stringify(quantize.domain)) fail(`${path}: the two parts' domains differ`);
  const D = claimOf(prune.tolerance, prune.floatingPoint.exactTolerance).epsilon;
  if (D === undefined) fail(`${path}: its prune part claims a class, which does not add up`);
  const sum = sumUp(D, quantize.tolerance.epsilon);
  if (!(sum <= eps)) fail(`${path}: epsilon ${eps} is less than the parts' ${D} + ${quantize.tolerance.epsilon}`);
  return obj as PruneQuantCertificate;
}

export async function checkPruneQuant(obj: unknown, path: string, a: RunOptions & { timeoutMs: number }, onProgress: (stage: string, done: number, total: number) => void): Promise<{ cert: PruneQuantCertificate; result: PruneQuantCheck }> {
  const cert = validatePruneQuant(obj, path);
  const t0 = Date.now();
  const prune = await checkChain(readCertified(path, certificateFromJson(cert.prune, path)), a);
  const quantize = await checkQuantCertificate(cert.quantize, path, { timeoutMs: a.timeoutMs, onProgress });
  const parts = [prune.verdict.status, quantize.verdict.status];
  const status: VerdictStatus = parts.every((s) => s === 'proved') ? 'proved' : parts.includes('refuted') ? 'refuted' : 'unknown';
  return { cert, result: { claim: combinedClaim(cert.epsilon), verdict: { status, method: 'prune check + quantisation check', timeMs: Date.now() - t0 }, prune, quantize } };
}
