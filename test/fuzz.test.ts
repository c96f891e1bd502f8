/**
 * A fixed sample of nnshrink's own malformed-input corpus (test/fuzz), run as a user would: each case in a fresh
 * directory, 2 at a time as child processes. Every case must exit with its expected code (2 bad input, 1 refuted)
 * within 10 s (killed then, a failure) and 512 MB peak RSS (GNU time's %M; see helpers/run-cli.ts), a bad input
 * with one line of at most 300 characters on stderr, and leave no new file and its inputs unchanged. Every
 * tampered certificate and family runs, each time; the untouched ones must still be proved (exit 0), or refusing
 * everything would pass. bench/fuzz.ts runs the whole corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeArtifacts, type Artifacts } from './fuzz/artifacts.ts';
import { buildCorpus, ciSample, isTamper } from './fuzz/corpus.ts';
import { controlCases } from './fuzz/cases-certs.ts';
import { describeFailure, runAll, runCase } from './fuzz/runner.ts';
import type { FuzzCase } from './fuzz/types.ts';

let artifacts: Artifacts;
let sample: FuzzCase[];

test('the corpus is the same on every run and holds the tampered certificates', async () => {
  artifacts = await makeArtifacts();
  const a = buildCorpus(artifacts, 1);
  const b = buildCorpus(artifacts, 1);
  assert.deepEqual(a.map((c) => c.name), b.map((c) => c.name));
  sample = ciSample(a);
  const tamper = sample.filter(isTamper);
  assert.ok(tamper.filter((c) => c.expect === 'refuted').length >= 12, 'refuted tamperings in the sample');
  assert.ok(sample.length <= 300, `a CI sample of ${sample.length} cases`);
});

test('untouched certificate and family: check proves them (exit 0)', async () => {
  for (const c of controlCases(artifacts)) {
    // the family's four slice checks are honest work: its limit is the check's, not the corpus's 10 s
    const o = await runCase({ ...c, kind: 'control', expect: 'refuted', why: '' }, 120_000);
    assert.equal(o.run.code, 0, `${c.name}: exit ${o.run.code}, stderr ${o.run.stderr.slice(0, 300)}`);
  }
});

test('every sampled malformed case is refused cleanly, every tampering refuted', async () => {
  const outcomes = await runAll(sample, 2);
  const failed = outcomes.filter((o) => !o.ok);
  assert.equal(failed.length, 0, `${failed.length} of ${outcomes.length} cases failed:\n${failed.map(describeFailure).join('\n')}`);
});
