/** `check` of a quantisation certificate (src/simplify/quantize/check.ts, through the library): the verdict printed. */
import type { QuantCheckResult } from '../simplify/quantize/check.ts';
import { fmt, printJson, verdictExit } from './common.ts';

export function printQuantCheck(r: QuantCheckResult, path: string, json: boolean): number {
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
