/**
 * The whole malformed-input corpus (test/fuzz, about 800 cases), 2 at a time: corpus size, counts by kind and
 * outcome, every failure by name with what happened, and the maxima of time and memory (for bench/RESULTS.md).
 * Run: node --import tsx bench/fuzz.ts [--scale 2] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { makeArtifacts } from '../test/fuzz/artifacts.ts';
import { buildCorpus } from '../test/fuzz/corpus.ts';
import { describeFailure, runAll, type Outcome } from '../test/fuzz/runner.ts';
import { MEMORY_METHOD } from '../test/helpers/run-cli.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

function table(outcomes: Outcome[]): string {
  const kinds = new Map<string, { n: number; clean: number; refuted: number; failed: number }>();
  for (const o of outcomes) {
    const k = kinds.get(o.case.kind) ?? { n: 0, clean: 0, refuted: 0, failed: 0 };
    k.n++;
    if (!o.ok) k.failed++;
    else if (o.case.expect === 'refuted') k.refuted++;
    else k.clean++;
    kinds.set(o.case.kind, k);
  }
  const rows = [...kinds.entries()].sort((a, b) => b[1].n - a[1].n);
  return ['| kind | cases | clean errors (exit 2) | refuted (exit 1) | failures |', '| --- | --- | --- | --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v.n} | ${v.clean} | ${v.refuted} | ${v.failed} |`)].join('\n');
}

const t0 = performance.now();
const artifacts = await makeArtifacts();
const cases = buildCorpus(artifacts, Number(arg('scale') ?? 2));
process.stderr.write(`fuzz: ${cases.length} cases\n`);
const outcomes = await runAll(cases, 2, (o, done) => {
  if (!o.ok || done % 50 === 0) process.stderr.write(`  ${done}/${cases.length}${o.ok ? '' : `  FAIL ${o.case.name}`}\n`);
});
const failed = outcomes.filter((o) => !o.ok);
const slowest = outcomes.reduce((a, b) => (b.run.ms > a.run.ms ? b : a));
const biggest = outcomes.reduce((a, b) => ((b.run.rssKb ?? 0) > (a.run.rssKb ?? 0) ? b : a));
console.log(`corpus: ${cases.length} cases (seed 25), ${outcomes.length - failed.length} as expected, ${failed.length} failures; ${((performance.now() - t0) / 1000).toFixed(0)} s wall-clock, 2 at a time`);
console.log(`clean errors: ${outcomes.filter((o) => o.ok && o.case.expect === 'bad-input').length}; refuted tamperings: ${outcomes.filter((o) => o.ok && o.case.expect === 'refuted').length} of ${outcomes.filter((o) => o.case.expect === 'refuted').length}`);
console.log(`max time ${(slowest.run.ms / 1000).toFixed(1)} s (${slowest.case.name}); max peak RSS ${Math.round((biggest.run.rssKb ?? 0) / 1024)} MB (${biggest.case.name}); memory by ${MEMORY_METHOD}`);
console.log('\n' + table(outcomes) + '\n');
if (failed.length) console.log('failures:\n' + failed.map(describeFailure).join('\n'));
const jsonOut = arg('json');
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify(outcomes.map((o) => ({ name: o.case.name, kind: o.case.kind, expect: o.case.expect, why: o.case.why, argv: o.case.argv, ok: o.ok, problems: o.problems, code: o.run.code, killed: o.run.killed, ms: Math.round(o.run.ms), rssKb: o.run.rssKb, stderr: o.run.stderr.slice(0, 300) })), null, 1));
}
