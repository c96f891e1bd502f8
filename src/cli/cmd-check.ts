import { fail } from '../errors.ts';
import { certificateDomain } from '../simplify/certificate.ts';
import { readCertified } from './certified.ts';
import { finalCheck } from '../simplify/final-check.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { makeProgress } from './progress.ts';
import { sampleCompareParallel } from '../simplify/sample-compare.ts';
import { defaultWorkers } from '../pool/pool.ts';
import { boundsFor, nBoxes, fmt, numberOpt, printJson, type CommandSpec } from './common.ts';

const CHECK_SEED = 4242;

export const checkCommand: CommandSpec = {
  name: 'check',
  summary: "re-run a prune certificate's final end-to-end check",
  usage: 'nnshrink check CERTIFICATE.json [--timeout S] [--json]',
  options: { timeout: { type: 'string' } },
  async run(values, positionals) {
    const path = positionals[0];
    if (!path) fail('check: missing CERTIFICATE');
    const { cert, input, output, edits } = readCertified(path);
    const f = input.network;
    const timeoutS = numberOpt(values, 'timeout', 120, 0.1);
    const progress = makeProgress(!values.json);
    let r: ReturnType<typeof finalCheck>;
    try {
      const domain = certificateDomain(cert);
      // 100,000 points of its own (not the ones prune drew), on the worker threads when that pays
      const sampling = await sampleCompareParallel(
        { f, g: output, domain, tolerance: cert.tolerance, count: 100_000, seed: CHECK_SEED, onSampled: (d, t) => progress.update('final check: sampling', d, t) },
        defaultWorkers(),
      );
      r = finalCheck(f, edits, cert.steps, output, cert.groups, domain, cert.tolerance, cert.floatingPoint.exactTolerance, {
        boundsFn: boundsFor(f),
        outputLinearLower,
        timeoutMs: timeoutS * 1000,
        seed: CHECK_SEED,
        sampling,
        basisReduced: cert.basisReduced === true,
        onProgress: (step, done, total) => progress.update(step, done, total),
      });
    } finally {
      progress.done();
    }
    const ok = r.verdict.status === 'proved';
    if (values.json) printJson({ certificate: path, ok, check: r });
    else {
      process.stdout.write(
        `${ok ? 'PROVED' : r.verdict.status === 'refuted' ? 'REFUTED' : 'NOT PROVED'}: ${r.claim}` +
          (r.provedBound !== undefined ? ` (proved max |f-g| <= ${fmt(r.provedBound)})` : '') +
          `\n  ${r.verdict.method}, ${nBoxes(r.verdict.boxes ?? 0)}, ${(r.verdict.timeMs / 1000).toFixed(1)} s; sampling ${r.sampling.points} points, largest |f-g| ${fmt(r.sampling.maxAbsDiff)}\n`,
      );
    }
    return ok ? 0 : 1;
  },
};
