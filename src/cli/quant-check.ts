/** `check` of a quantisation certificate (src/simplify/quantize/check.ts): the verdict printed, its exit code. */
import { QUANT_CERTIFICATE_FORMAT } from '../simplify/quantize/certificate.ts';
import { checkQuantCertificate, type QuantCheckResult } from '../simplify/quantize/check.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { fmt, printJson, verdictExit } from './common.ts';
import type { Progress } from './progress.ts';

/** The parsed certificate when its format field says it is a quantisation's, else undefined. */
export function quantCertificateJson(text: string): unknown {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return undefined; // another reader says what is wrong with it
  }
  return (obj as { format?: unknown } | null)?.format === QUANT_CERTIFICATE_FORMAT ? obj : undefined;
}

export async function checkQuant(obj: unknown, path: string, timeoutS: number, progress: Progress, json: boolean): Promise<number> {
  let r: QuantCheckResult;
  await loadMilpSolver();
  try {
    r = await checkQuantCertificate(obj, path, { timeoutMs: timeoutS * 1000, onProgress: (s, d, t) => progress.update(s, d, t) });
  } finally {
    progress.done();
  }
  if (json) printJson({ certificate: path, ok: r.verdict.status === 'proved', check: r });
  else {
    const head = r.verdict.status === 'proved' ? 'PROVED' : r.verdict.status === 'refuted' ? 'REFUTED' : 'NOT PROVED';
    const p = r.proof;
    process.stdout.write(
      `${head}: ${r.claim}\n  ${r.verdict.method}${p && Number.isFinite(p.provedBound) ? `: proved |g - f| <= ${fmt(p.provedBound)} (float32 rounding ${fmt(p.rounding)})` : ''}, ${(r.verdict.timeMs / 1000).toFixed(1)} s; ` +
        `sampling ${r.sampling.points} points, largest |f-g| ${fmt(r.sampling.maxAbsDiff)}\n` +
        (r.verdict.reason ? `  why: ${r.verdict.reason}\n` : '') +
        (r.witness ? `  counterexample: x = [${r.witness.slice(0, 8).map((v) => fmt(v, 6)).join(', ')}${r.witness.length > 8 ? ', ...' : ''}]\n` : ''),
    );
  }
  return verdictExit(r.verdict.status);
}
