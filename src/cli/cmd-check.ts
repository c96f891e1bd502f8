/**
 * nnshrink check: the options read, the library's checkCertificate (src/api/check.ts: the certificate parsed once
 * and dispatched on its format) called, the verdict printed (and with --report, one HTML page written).
 */
import { checkOutputs, writeFileAtomic } from '../formats/atomic.ts';
import { fail } from '../errors.ts';
import type { GraphFinalCheck } from '../simplify/graph/certificate.ts';
import { checkReport, type CheckSubject } from '../report/check.ts';
import { checkCertificate } from '../api/check.ts';
import type { ChainCheckResult, SliceCheck } from '../api/check-chain.ts';
import { printQuantCheck } from './quant-check.ts';
import { checkedQuantFiles } from './quant-report.ts';
import { makeProgress } from './progress.ts';
import { VERSION } from '../version.ts';
import { EXIT, nBoxes, fmt, numberOpt, printJson, verdictExit, type CommandSpec } from './common.ts';

export const checkCommand: CommandSpec = {
  name: 'check',
  summary: "re-prove a prune certificate's claim about the networks as stored (or every slice certificate of a family)",
  usage: 'nnshrink check CERTIFICATE.json|FAMILY_DIR [--timeout S] [--report R.html] [--json]\n' +
    '    (--report: one self-contained HTML page: the claim, the verdict, how it was proved, the times, the hashes;\n' +
    '     of a quantisation also each layer\'s stored type and the file sizes)\n' +
    '    (FAMILY_DIR: every slice certificate re-proved, and the parts of the domain they were proved on shown to cover\n' +
    "     the family's domain as its dispatcher splits it)",
  options: { timeout: { type: 'string' }, report: { type: 'string' } },
  maxPositionals: 1,
  exits: '0 proved, 1 refuted (a counterexample re-checked by evaluation, or a contradicting sample), 3 not proved within the limits',
  async run(values, positionals) {
    const path = positionals[0];
    if (!path) fail('check: missing CERTIFICATE');
    const timeoutS = numberOpt(values, 'timeout', 120, 0.1);
    const t0 = Date.now();
    const reportPath = typeof values.report === 'string' ? values.report : undefined;
    if (reportPath) checkOutputs([{ path: reportPath, what: '--report', kind: 'file' }], [{ path, what: 'CERTIFICATE' }]);
    // the report, when asked for, written on its own once the verdict is in (whatever it is)
    const report = (r: CheckSubject): void => {
      if (reportPath) writeFileAtomic(reportPath, checkReport({ ...r, certificate: path, timeMs: Date.now() - t0, version: VERSION }));
    };
    const json = values.json === true;
    const progress = makeProgress(!json);
    let c;
    try {
      c = await checkCertificate(path, { timeoutMs: timeoutS * 1000, onProgress: (p) => progress.update(p.stage, p.done, p.total) });
    } finally {
      progress.done();
    }
    if (c.kind === 'family') {
      report({ kind: 'family', source: c.source, ok: c.status === 'proved', slices: c.slices });
      return printFamily(path, c.source, c.slices, json);
    }
    if (c.kind === 'quantize') {
      if (reportPath) report({ kind: 'quantize', cert: c.certificate, result: c.result, ...checkedQuantFiles(path, c.certificate) });
      return printQuantCheck(c.result, path, json);
    }
    if (c.kind === 'prune-quantize') {
      // prune --quantize: the end-to-end claim and its two parts
      const { prune: pr, quantize: qr, verdict } = c.result;
      if (reportPath) report({ kind: 'prune-quantize', pruneCert: c.certificate.prune, result: c.result, cert: c.certificate.quantize, ...checkedQuantFiles(path, c.certificate.quantize) });
      if (json) printJson({ certificate: path, ok: verdict.status === 'proved', check: c.result });
      else process.stdout.write(`${verdict.status === 'proved' ? 'PROVED' : verdict.status === 'refuted' ? 'REFUTED' : 'NOT PROVED'}: ${c.claim}\n  prune part: ${verdictLines(pr).replace(/\n(?=.)/g, '\n  ')}  quantisation part: ${qr.verdict.status}: ${qr.claim}\n`);
      return verdictExit(verdict.status);
    }
    if (c.kind === 'graph') {
      report({ kind: 'graph', cert: c.certificate, result: c.result });
      return printGraph(c.result, path, json);
    }
    const r = c.result;
    report({ kind: 'chain', cert: c.certificate, result: r });
    if (json) printJson({ certificate: path, ok: r.verdict.status === 'proved', check: r });
    else process.stdout.write(verdictLines(r));
    return verdictExit(r.verdict.status);
  },
};

function printGraph(r: GraphFinalCheck, path: string, json: boolean): number {
  if (json) printJson({ certificate: path, ok: r.verdict.status === 'proved', check: r });
  else {
    const head = r.verdict.status === 'proved' ? 'PROVED' : r.verdict.status === 'refuted' ? 'REFUTED' : 'NOT PROVED';
    process.stdout.write(
      `${head}: ${r.claim}\n  ${r.verdict.method}: ${'facts' in r ? `${r.facts.reproved} of ${r.facts.claimed} removed channels re-proved zero` : `f's winner ${r.winner ?? '?'}, leads proved for ${r.margins?.filter((m) => m.g > -Infinity).length ?? 0} outputs`}, ${(r.verdict.timeMs / 1000).toFixed(1)} s; ` +
        `sampling ${r.sampling.points} points, ${'maxAbsDiff' in r.sampling ? `largest |f-g| ${fmt(r.sampling.maxAbsDiff)}` : `smallest lead in g ${fmt(r.sampling.minLeadG)}`}\n` +
        (r.verdict.reason ? `  why: ${r.verdict.reason}\n` : '') +
        (r.witness ? `  counterexample: x = [${r.witness.slice(0, 8).map((v) => fmt(v, 6)).join(', ')}${r.witness.length > 8 ? ', ...' : ''}]\n` : ''),
    );
  }
  return verdictExit(r.verdict.status);
}

function verdictLines(r: ChainCheckResult): string {
  const ok = r.verdict.status === 'proved';
  const head = ok ? 'PROVED' : r.verdict.status === 'refuted' ? 'REFUTED' : 'NOT PROVED';
  return (
    `${head}: ${r.claim}` +
    (r.provedBound !== undefined ? ` (proved max |f-g| <= ${fmt(r.provedBound)})` : '') +
    `\n  ${r.verdict.method}, ${nBoxes(r.verdict.boxes ?? 0)}, ${(r.verdict.timeMs / 1000).toFixed(1)} s; sampling ${r.sampling.points} points, largest |f-g| ${fmt(r.sampling.maxAbsDiff)}\n` +
    (r.verdict.reason ? `  why: ${r.verdict.reason}\n` : '') +
    (r.witness ? `  counterexample: x = [${r.witness.map((v) => fmt(v, 6)).join(', ')}]\n` : '') +
    (r.vacuous ? `  note: the claim is vacuous: ${r.vacuous}\n` : '')
  );
}

function printFamily(dir: string, source: string, rows: SliceCheck[], json: boolean): number {
  const failed = rows.filter((r) => !r.ok);
  if (json) printJson({ family: dir, ok: failed.length === 0, source, slices: rows });
  else {
    const lines = [
      failed.length === 0
        ? `PROVED: all ${rows.length} slice certificates of ${dir} hold, and they cover the family's domain as its dispatcher splits it (source sha256 ${source.slice(0, 16)}…)`
        : `${rows.some((r) => r.check.verdict.status === 'refuted') ? 'REFUTED' : 'NOT PROVED'}: ${failed.length} of ${rows.length} slices of ${dir}`,
    ];
    for (const r of rows) {
      if (r.ok && failed.length) continue;
      lines.push(`  slice ${r.slice}: ${r.ok ? '' : !r.covers ? "its certificate's domain does not cover its box; " : ''}${verdictLines(r.check).trimEnd().replace(/\n/g, '\n  ')}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  if (failed.length === 0) return EXIT.ok;
  return rows.some((r) => r.check.verdict.status === 'refuted') ? EXIT.refuted : EXIT.unknown;
}
