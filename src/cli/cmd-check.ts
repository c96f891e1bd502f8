import { join } from 'node:path';
import { fail } from '../errors.ts';
import { certificateDomain } from '../simplify/certificate.ts';
import { readCertified, type Certified } from './certified.ts';
import { finalCheck, type FinalCheckResult } from '../simplify/final-check.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { makeProgress, type Progress } from './progress.ts';
import { sampleCompareParallel } from '../simplify/sample-compare.ts';
import { defaultWorkers } from '../pool/pool.ts';
import { readFamily } from '../slice/family.ts';
import { leafBoxes } from '../slice/partition.ts';
import { servedParts } from '../slice/regions.ts';
import { containsBox } from '../model/box.ts';
import { isFamilyDirectory } from './family-eval.ts';
import { boundsFor, nBoxes, fmt, numberOpt, printJson, type CommandSpec } from './common.ts';

const CHECK_SEED = 4242;

export const checkCommand: CommandSpec = {
  name: 'check',
  summary: "re-run a prune certificate's final end-to-end check (or every slice certificate of a family)",
  usage: 'nnshrink check CERTIFICATE.json|FAMILY_DIR [--timeout S] [--json]\n' +
    '    (FAMILY_DIR: every slice certificate re-proved, and the parts of the domain they were proved on shown to cover\n' +
    '     the family\'s domain as its dispatcher splits it)',
  options: { timeout: { type: 'string' } },
  async run(values, positionals) {
    const path = positionals[0];
    if (!path) fail('check: missing CERTIFICATE');
    const timeoutS = numberOpt(values, 'timeout', 120, 0.1);
    const progress = makeProgress(!values.json);
    if (isFamilyDirectory(path)) return checkFamily(path, timeoutS, progress, values.json === true);
    let r: FinalCheckResult;
    try {
      r = await checkCertificate(readCertified(path), timeoutS, progress);
    } finally {
      progress.done();
    }
    const ok = r.verdict.status === 'proved';
    if (values.json) printJson({ certificate: path, ok, check: r });
    else process.stdout.write(verdictLines(r));
    return ok ? 0 : 1;
  },
};

function verdictLines(r: FinalCheckResult): string {
  const ok = r.verdict.status === 'proved';
  return (
    `${ok ? 'PROVED' : r.verdict.status === 'refuted' ? 'REFUTED' : 'NOT PROVED'}: ${r.claim}` +
    (r.provedBound !== undefined ? ` (proved max |f-g| <= ${fmt(r.provedBound)})` : '') +
    `\n  ${r.verdict.method}, ${nBoxes(r.verdict.boxes ?? 0)}, ${(r.verdict.timeMs / 1000).toFixed(1)} s; sampling ${r.sampling.points} points, largest |f-g| ${fmt(r.sampling.maxAbsDiff)}\n`
  );
}

/** The certificate's final check, afresh: its own 100,000 samples, then the difference check. */
async function checkCertificate({ cert, input, output, edits }: Certified, timeoutS: number, progress: Progress): Promise<FinalCheckResult> {
  const f = input.network;
  const domain = certificateDomain(cert);
  // 100,000 points of its own (not the ones prune drew), on the worker threads when that pays
  const sampling = await sampleCompareParallel(
    { f, g: output, domain, tolerance: cert.tolerance, count: 100_000, seed: CHECK_SEED, onSampled: (d, t) => progress.update('final check: sampling', d, t) },
    defaultWorkers(),
  );
  const pruned = { edits, steps: cert.steps, written: output, groups: cert.groups, basisReduced: cert.basisReduced === true };
  return finalCheck(f, pruned, domain, cert.tolerance, cert.floatingPoint.exactTolerance, {
    boundsFn: boundsFor(f),
    outputLinearLower,
    timeoutMs: timeoutS * 1000,
    seed: CHECK_SEED,
    sampling,
    onProgress: (step, done, total) => progress.update(step, done, total),
  });
}

/**
 * A family is equivalent to its original on its domain when every slice's certificate holds and covers what the
 * dispatcher sends that slice: its leaf of the split tree (with several domain boxes, the parts of them in it).
 */
async function checkFamily(dir: string, timeoutS: number, progress: Progress, json: boolean): Promise<number> {
  const fam = readFamily(dir);
  const leaves = leafBoxes(fam.manifest.tree, fam.root, fam.manifest.slices.length);
  const rows: Array<{ slice: number; ok: boolean; covers: boolean; claim: string; check: FinalCheckResult }> = [];
  try {
    for (const [i, s] of fam.manifest.slices.entries()) {
      progress.update('slice certificates', i, fam.manifest.slices.length);
      const certified = readCertified(join(dir, s.certificate));
      const r = await checkCertificate(certified, timeoutS, progress);
      const proved = certificateDomain(certified.cert);
      const covers = servedParts(leaves[i], fam.regions).every((p) => proved.some((b) => containsBox(b, p)));
      rows.push({ slice: i, ok: r.verdict.status === 'proved' && covers, covers, claim: r.claim, check: r });
    }
  } finally {
    progress.done();
  }
  const failed = rows.filter((r) => !r.ok);
  if (json) printJson({ family: dir, ok: failed.length === 0, slices: rows });
  else {
    const lines = [
      failed.length === 0
        ? `PROVED: all ${rows.length} slice certificates of ${dir} hold, and they cover the family's domain as its dispatcher splits it`
        : `NOT PROVED: ${failed.length} of ${rows.length} slices of ${dir}`,
    ];
    for (const r of rows) {
      if (r.ok && failed.length) continue;
      lines.push(`  slice ${r.slice}: ${r.ok ? '' : !r.covers ? "its certificate's domain does not cover its box; " : ''}${verdictLines(r.check).trimEnd().replace(/\n/g, '\n  ')}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  return failed.length === 0 ? 0 : 1;
}
