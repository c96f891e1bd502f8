/**
 * `checkCertificate(path)`: any certificate nnshrink writes (a chain prune's, a graph prune's, a quantisation's) or
 * a slice family's directory, its claim re-proved about the files as stored. The file is read and parsed once and
 * dispatched on its `format` field.
 */
import { fail } from '../errors.ts';
import { readInputFile } from '../formats/read-text.ts';
import { isFamilyDirectory } from '../slice/family.ts';
import { certificateFromJson, type Certificate } from '../simplify/certificate.ts';
import { GRAPH_CERTIFICATE_FORMAT, type GraphCertificate, type GraphFinalCheck } from '../simplify/graph/certificate.ts';
import type { GraphEpsCheckResult } from '../simplify/graph/eps-check.ts';
import { QUANT_CERTIFICATE_FORMAT, validateQuantCertificate, type QuantCertificate } from '../simplify/quantize/certificate.ts';
import { checkQuantCertificate, type QuantCheckResult } from '../simplify/quantize/check.ts';
import { checkGraphQuantCertificate, isGraphQuantCertificate } from '../simplify/quantize/graph-check.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import type { VerdictStatus } from '../verify/verdict.ts';
import { readCertified } from './certified.ts';
import { checkChain, checkFamily, type ChainCheckResult, type SliceCheck } from './check-chain.ts';
import { checkGraphCertificate } from './check-graph.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';
import { PRUNE_QUANT_FORMAT, type PruneQuantCertificate } from './prune-quantize.ts';
import { checkPruneQuant, type PruneQuantCheck } from './prune-quantize-check.ts';

/** The options of {@link checkCertificate}. */
export interface CheckOptions extends RunOptions {
  /** the time limit of the proof in milliseconds (default 120,000); reaching it answers `unknown`, never `proved` */
  timeoutMs?: number;
}

/**
 * What {@link checkCertificate} found: `status` proved (the claim holds about the stored files), refuted (a
 * counterexample re-checked by evaluation, or a sample contradicting the claim) or unknown (not proved in the
 * limits); per kind, the certificate and what was re-proved.
 */
export type Checked =
  | { kind: 'chain'; status: VerdictStatus; claim: string; certificate: Certificate; result: ChainCheckResult }
  | { kind: 'graph'; status: VerdictStatus; claim: string; certificate: GraphCertificate; result: GraphFinalCheck | (GraphEpsCheckResult & { vacuous?: string }) }
  | { kind: 'quantize'; status: VerdictStatus; claim: string; certificate: QuantCertificate; result: QuantCheckResult }
  | { kind: 'family'; status: VerdictStatus; claim: string; source: string; slices: SliceCheck[] }
  | { kind: 'prune-quantize'; status: VerdictStatus; claim: string; certificate: PruneQuantCertificate; result: PruneQuantCheck };

/** The certificate file's JSON, parsed once. */
function parsed(path: string): unknown {
  const text = readInputFile(path).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Re-proves a certificate (or every slice certificate of a family directory) from the files it names, trusting
 * nothing it can recompute (docs/certificate.md). Rejects with an NnsError for a malformed certificate or a file
 * that differs from the one it names (`bad-input`), or on abort (`aborted`); a claim not proved is a result
 * (`status`), not an error.
 */
export async function checkCertificate(path: string, options: CheckOptions = {}): Promise<Checked> {
  const a = { ...options, timeoutMs: options.timeoutMs ?? 120_000 };
  await loadMilpSolver();
  if (isFamilyDirectory(path)) {
    const r = await checkFamily(path, a);
    const status: VerdictStatus = r.ok ? 'proved' : r.slices.some((s) => s.check.verdict.status === 'refuted') ? 'refuted' : 'unknown';
    return { kind: 'family', status, claim: `every slice of ${path} equivalent to its source on the part of the domain it serves`, ...r };
  }
  const obj = parsed(path);
  const format = (obj as { format?: unknown } | null)?.format;
  const report = reporter(a);
  const onProgress = (stage: string, done: number, total: number): void => report({ stage, done, total });
  if (format === GRAPH_CERTIFICATE_FORMAT) {
    const { cert, result } = await checkGraphCertificate(obj, path, a.timeoutMs, onProgress);
    await checkpoint(a.signal);
    return { kind: 'graph', status: result.verdict.status, claim: result.claim, certificate: cert, result };
  }
  if (format === QUANT_CERTIFICATE_FORMAT) {
    const check = isGraphQuantCertificate(obj) ? checkGraphQuantCertificate : checkQuantCertificate;
    const result = await check(obj, path, { timeoutMs: a.timeoutMs, onProgress });
    await checkpoint(a.signal);
    return { kind: 'quantize', status: result.verdict.status, claim: result.claim, certificate: validateQuantCertificate(obj, path), result };
  }
  if (format === PRUNE_QUANT_FORMAT) {
    // prune --quantize: both parts re-proved, and checked to chain
    const { cert, result } = await checkPruneQuant(obj, path, a, onProgress);
    await checkpoint(a.signal);
    return { kind: 'prune-quantize', status: result.verdict.status, claim: result.claim, certificate: cert, result };
  }
  const certified = readCertified(path, certificateFromJson(obj, path));
  const result = await checkChain(certified, a);
  await checkpoint(a.signal);
  return { kind: 'chain', status: result.verdict.status, claim: result.claim, certificate: certified.cert, result };
}
