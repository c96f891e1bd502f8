/**
 * check of a chain prune's certificate, and of a slice family (every slice certificate, and their cover of the
 * family's domain as its dispatcher splits it): the claims proved afresh about the networks as stored.
 */
import { join, resolve } from 'node:path';
import { fail } from '../errors.ts';
import { pathFromCertificate } from '../simplify/certificate.ts';
import { readCertified, writtenPrune, type Certified } from './certified.ts';
import { finalCheck, type FinalCheckResult } from '../simplify/final-check.ts';
import { crownBounds } from '../bounds/backward.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { sampleCompareParallel } from '../simplify/sample-compare.ts';
import { defaultWorkers } from '../pool/pool.ts';
import { readFamily } from '../slice/family.ts';
import { servedParts } from '../slice/regions.ts';
import { containsBox } from '../model/box.ts';
import { vacuity } from '../simplify/vacuity.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';

const CHECK_SEED = 4242;

/** A chain certificate's check: the final check's result, and whether the claim is vacuous. */
export type ChainCheckResult = FinalCheckResult & { vacuous?: string };

/** One slice of a family's check. */
export interface SliceCheck {
  slice: number;
  /** proved, and its certificate's domain covers what the dispatcher sends the slice */
  ok: boolean;
  covers: boolean;
  claim: string;
  check: ChainCheckResult;
}

type Ask = RunOptions & { timeoutMs: number };

/**
 * The certificate's claim proved afresh about the networks as stored: its own 100,000 samples first (any that
 * contradicts the claim refutes it, with no proof run), then the difference check. The edits, steps and groups
 * only guide how the difference is decomposed; each is re-proved or checked against the stored numbers.
 */
export async function checkChain(certified: Certified, a: Ask): Promise<ChainCheckResult> {
  const { cert, input, output, domain, exactSlack } = certified;
  const f = input.network;
  const report = reporter(a);
  const sampling = await sampleCompareParallel(
    { f, g: output, domain, tolerance: cert.tolerance, count: 100_000, seed: CHECK_SEED, onSampled: (done, total) => report({ stage: 'final check: sampling', done, total }) },
    defaultWorkers(),
  );
  await checkpoint(a.signal);
  const r = finalCheck(f, writtenPrune(certified, output), domain, cert.tolerance, exactSlack, {
    boundsFn: crownBounds,
    outputLinearLower,
    timeoutMs: a.timeoutMs,
    seed: CHECK_SEED,
    sampling,
    onProgress: (stage, done, total) => report({ stage, done, total }),
  });
  const vacuous = vacuity(f, domain, cert.tolerance, crownBounds);
  return vacuous ? { ...r, vacuous } : r;
}

/**
 * A family is equivalent to its original on its domain when every slice's certificate holds, is about the family's
 * source and the slice's own network file, and covers what the dispatcher sends that slice: its leaf of the split
 * tree (with several domain boxes, the parts of them in it). Every certificate is read first, so a malformed one
 * fails before any proof; one refuted slice refutes the family (the others need not be proved).
 */
export async function checkFamily(dir: string, a: Ask): Promise<{ source: string; ok: boolean; slices: SliceCheck[] }> {
  const fam = readFamily(dir);
  const certs = fam.manifest.slices.map((s, i) => {
    const at = join(dir, s.certificate);
    const c = readCertified(at);
    if (c.cert.input.sha256 !== fam.manifest.source.sha256) fail(`${at}: slice ${i}'s certificate is about another original than the family's source (sha256 differs)`);
    if (resolve(pathFromCertificate(at, c.cert.output.path)) !== resolve(fam.networkPath(i))) fail(`${at}: slice ${i}'s certificate is about ${c.cert.output.path}, not the slice's network ${s.network}`);
    if (!sameClaimKind(c.cert.tolerance, fam.manifest.tolerance)) fail(`${at}: slice ${i}'s certificate claims ${JSON.stringify(c.cert.tolerance)}, the family ${JSON.stringify(fam.manifest.tolerance)}`);
    return c;
  });
  const report = reporter(a);
  const rows: SliceCheck[] = [];
  for (const [i, certified] of certs.entries()) {
    report({ stage: 'slice certificates', done: i, total: certs.length });
    const r = await checkChain(certified, a);
    await checkpoint(a.signal);
    const covers = servedParts(fam.leaves[i], fam.regions).every((p) => certified.domain.some((b) => containsBox(b, p)));
    rows.push({ slice: i, ok: r.verdict.status === 'proved' && covers, covers, claim: r.claim, check: r });
    if (r.verdict.status === 'refuted') break;
  }
  return { source: fam.manifest.source.sha256, ok: rows.every((r) => r.ok), slices: rows };
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
