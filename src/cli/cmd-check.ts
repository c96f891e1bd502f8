import { join, resolve } from 'node:path';
import { readInputFile } from '../formats/read-text.ts';
import { GRAPH_CERTIFICATE_FORMAT } from '../simplify/graph/certificate.ts';
import type { GraphCheckResult } from '../simplify/graph/check.ts';
import type { GraphClassCheckResult } from '../simplify/graph/class-check.ts';
import { checkGraphCertificate } from './graph-check.ts';
import { checkQuant, quantCertificateJson } from './quant-check.ts';
import { fail } from '../errors.ts';
import { pathFromCertificate } from '../simplify/certificate.ts';
import { readCertified, writtenPrune, type Certified } from './certified.ts';
import { finalCheck, type FinalCheckResult } from '../simplify/final-check.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { makeProgress, type Progress } from './progress.ts';
import { sampleCompareParallel } from '../simplify/sample-compare.ts';
import { defaultWorkers } from '../pool/pool.ts';
import { readFamily } from '../slice/family.ts';
import { servedParts } from '../slice/regions.ts';
import { containsBox } from '../model/box.ts';
import { vacuity } from '../simplify/vacuity.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { isFamilyDirectory } from './family-eval.ts';
import { checkOutputs, writeFileAtomic } from '../formats/atomic.ts';
import type { GraphCertificate } from '../simplify/graph/certificate.ts';
import { checkReport, type CheckSubject } from '../report/check.ts';
import { VERSION } from './version.ts';
import { boundsFor, EXIT, nBoxes, fmt, numberOpt, printJson, verdictExit, type CommandSpec } from './common.ts';

const CHECK_SEED = 4242;

export const checkCommand: CommandSpec = {
  name: 'check',
  summary: "re-prove a prune certificate's claim about the networks as stored (or every slice certificate of a family)",
  usage: 'nnshrink check CERTIFICATE.json|FAMILY_DIR [--timeout S] [--report R.html] [--json]\n' +
    '    (--report: one self-contained HTML page: the claim, the verdict, how it was proved, the times, the hashes)\n' +
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
    const progress = makeProgress(!values.json);
    if (isFamilyDirectory(path)) return checkFamily(path, timeoutS, progress, values.json === true, report);
    const text = readInputFile(path).toString('utf8');
    const graphCert = graphCertificateJson(text);
    if (graphCert) return checkGraph(graphCert, path, timeoutS, progress, values.json === true, report);
    const quantCert = quantCertificateJson(text);
    if (quantCert) return checkQuant(quantCert, path, timeoutS, progress, values.json === true);
    const certified = readCertified(path, text);
    let r: CheckResult;
    try {
      r = await checkCertificate(certified, timeoutS, progress);
    } finally {
      progress.done();
    }
    report({ kind: 'chain', cert: certified.cert, result: r });
    if (values.json) printJson({ certificate: path, ok: r.verdict.status === 'proved', check: r });
    else process.stdout.write(verdictLines(r));
    return verdictExit(r.verdict.status);
  },
};

type CheckResult = FinalCheckResult & { vacuous?: string };

/** The parsed certificate when it is a graph prune's (its format field says so), else undefined. */
function graphCertificateJson(text: string): unknown {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return undefined; // the chain certificate's parser says what is wrong with it
  }
  return (obj as { format?: unknown } | null)?.format === GRAPH_CERTIFICATE_FORMAT ? obj : undefined;
}

type Report = (r: CheckSubject) => void;

async function checkGraph(obj: unknown, path: string, timeoutS: number, progress: Progress, json: boolean, report: Report): Promise<number> {
  let r: GraphCheckResult | GraphClassCheckResult;
  try {
    r = await checkGraphCertificate(obj, path, timeoutS, progress);
  } finally {
    progress.done();
  }
  // checkGraphCertificate validated obj against the graph certificate's schema before any proof
  report({ kind: 'graph', cert: obj as GraphCertificate, result: r });
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

function verdictLines(r: CheckResult): string {
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

/**
 * The certificate's claim proved afresh about the networks as stored: its own 100,000 samples first (any that
 * contradicts the claim refutes it, with no proof run), then the difference check. The edits, steps and groups
 * only guide how the difference is decomposed; each is re-proved or checked against the stored numbers.
 */
async function checkCertificate(certified: Certified, timeoutS: number, progress: Progress): Promise<CheckResult> {
  const { cert, input, output, domain, exactSlack } = certified;
  const f = input.network;
  const sampling = await sampleCompareParallel(
    { f, g: output, domain, tolerance: cert.tolerance, count: 100_000, seed: CHECK_SEED, onSampled: (d, t) => progress.update('final check: sampling', d, t) },
    defaultWorkers(),
  );
  const r = finalCheck(f, writtenPrune(certified, output), domain, cert.tolerance, exactSlack, {
    boundsFn: boundsFor(f),
    outputLinearLower,
    timeoutMs: timeoutS * 1000,
    seed: CHECK_SEED,
    sampling,
    onProgress: (step, done, total) => progress.update(step, done, total),
  });
  const vacuous = vacuity(f, domain, cert.tolerance, boundsFor(f));
  return vacuous ? { ...r, vacuous } : r;
}

/**
 * A family is equivalent to its original on its domain when every slice's certificate holds, is about the family's
 * source and the slice's own network file, and covers what the dispatcher sends that slice: its leaf of the split
 * tree (with several domain boxes, the parts of them in it). Every certificate is read first, so a malformed one
 * fails before any proof.
 */
async function checkFamily(dir: string, timeoutS: number, progress: Progress, json: boolean, report: Report): Promise<number> {
  const fam = readFamily(dir);
  const certs = fam.manifest.slices.map((s, i) => {
    const at = join(dir, s.certificate);
    const c = readCertified(at);
    if (c.cert.input.sha256 !== fam.manifest.source.sha256) fail(`${at}: slice ${i}'s certificate is about another original than the family's source (sha256 differs)`);
    if (resolve(pathFromCertificate(at, c.cert.output.path)) !== resolve(fam.networkPath(i))) fail(`${at}: slice ${i}'s certificate is about ${c.cert.output.path}, not the slice's network ${s.network}`);
    if (!sameClaimKind(c.cert.tolerance, fam.manifest.tolerance)) fail(`${at}: slice ${i}'s certificate claims ${JSON.stringify(c.cert.tolerance)}, the family ${JSON.stringify(fam.manifest.tolerance)}`);
    return c;
  });
  const rows: Array<{ slice: number; ok: boolean; covers: boolean; claim: string; check: CheckResult }> = [];
  try {
    for (const [i, certified] of certs.entries()) {
      progress.update('slice certificates', i, certs.length);
      const r = await checkCertificate(certified, timeoutS, progress);
      const covers = servedParts(fam.leaves[i], fam.regions).every((p) => certified.domain.some((b) => containsBox(b, p)));
      rows.push({ slice: i, ok: r.verdict.status === 'proved' && covers, covers, claim: r.claim, check: r });
      // one refuted slice refutes the family: the others need not be proved
      if (r.verdict.status === 'refuted') break;
    }
  } finally {
    progress.done();
  }
  const failed = rows.filter((r) => !r.ok);
  report({ kind: 'family', source: fam.manifest.source.sha256, ok: failed.length === 0, slices: rows });
  if (json) printJson({ family: dir, ok: failed.length === 0, source: fam.manifest.source.sha256, slices: rows });
  else {
    const lines = [
      failed.length === 0
        ? `PROVED: all ${rows.length} slice certificates of ${dir} hold, and they cover the family's domain as its dispatcher splits it (source sha256 ${fam.manifest.source.sha256.slice(0, 16)}…)`
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

/** A slice's claim is the family's: the same kind, an epsilon no larger, the same class order (a slice may have
 * a small positive margin where the family asked for none: certify.ts gives class claims one). */
function sameClaimKind(slice: Tolerance, family: unknown): boolean {
  const fam = family as Partial<Tolerance> | null;
  if (!fam || fam.kind !== slice.kind) return false;
  if (slice.kind === 'linf') return typeof (fam as { epsilon?: unknown }).epsilon === 'number' && slice.epsilon <= (fam as { epsilon: number }).epsilon;
  if (slice.kind === 'class') return (fam as { order?: unknown }).order === slice.order;
  return true;
}
