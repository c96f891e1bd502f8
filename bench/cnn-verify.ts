/**
 * VNN-COMP 2021 convolutional benchmarks (../shared/nets/cnn): `nnshrink verify --instances` on each benchmark's
 * instance list, as a user runs it (the CLI in a child process), each verdict set beside the published one
 * (expected_verdicts.csv). A verdict AGAINST a published decided one (our sat where they say unsat, or the reverse)
 * is listed by name: it is either a bug here or a wrong published answer (a sat of ours carries a re-checked
 * counterexample; an unsat published by one tool only is weak evidence).
 * Run: node --import tsx bench/cnn-verify.ts [timeoutCapS=60] [instances per benchmark=all] [benchmarks=all|oval21,..] [jobs=cores]
 *   (each instance's limit is min(its listed limit, the cap); the first N instances of each list)
 * Rows (one per instance) also go to bench/out/cnn-verify.jsonl; the result files to bench/out/cnn-verify/<benchmark>/.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import { defaultWorkers } from '../src/pool/pool.ts';

const cap = Number(process.argv[2] ?? 60);
const count = process.argv[3] && process.argv[3] !== 'all' ? Number(process.argv[3]) : Infinity;
const only = process.argv[4] && process.argv[4] !== 'all' ? new Set(process.argv[4].split(',')) : null;
const jobs = Number(process.argv[5] ?? defaultWorkers());
const root = join(SHARED_NETS, 'cnn');
const BIN = fileURLToPath(new URL('../bin/nnshrink-dev.js', import.meta.url));
const out = fileURLToPath(new URL('./out', import.meta.url));
const jsonl = join(out, 'cnn-verify.jsonl');

interface Row {
  model: string;
  property: string;
  result: 'sat' | 'unsat' | 'unknown';
  reason?: string;
  timeMs: number;
  boxes: number;
}

/** model,property -> published verdict, keyed by the normalised paths under the benchmark's folder. */
function published(dir: string): Map<string, { verdict: string; unsat: number; sat: number }> {
  const lines = readFileSync(join(dir, 'expected_verdicts.csv'), 'utf8').trim().split('\n').slice(1);
  return new Map(lines.map((l) => {
    const [m, p, verdict, unsat, sat] = l.split(',').map((s) => s.trim());
    return [`${normalize(join(dir, m))},${normalize(join(dir, p))}`, { verdict, unsat: Number(unsat), sat: Number(sat) }];
  }));
}

/** The benchmark's list cut to the first `count` rows, absolute paths, limits capped: a list of our own. */
function cutList(dir: string, name: string, work: string): number {
  const list = readdirSync(dir).find((f) => f.endsWith('instances.csv'));
  if (!list) throw new Error(`${dir}: no instance list`);
  const rows = readFileSync(join(dir, list), 'utf8').trim().split('\n').filter((l) => l.trim()).slice(0, count);
  const text = rows.map((l) => {
    const [m, p, t] = l.split(',').map((s) => s.trim());
    return `${normalize(join(dir, m))},${normalize(join(dir, p))},${Math.min(Number(t ?? cap), cap)}`;
  });
  writeFileSync(join(work, `${name}.csv`), text.join('\n') + '\n');
  return rows.length;
}

function runBenchmark(name: string): void {
  const dir = join(root, name);
  const work = join(out, 'cnn-verify', name);
  mkdirSync(work, { recursive: true });
  const n = cutList(dir, name, work);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, 'verify', '--instances', join(work, `${name}.csv`), '--results-dir', work, '--jobs', String(jobs), '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (Date.now() - t0) / 1000;
  if (r.status !== 0) {
    console.log(`\n## ${name}: verify --instances failed (exit ${r.status}): ${r.stderr.trim().split('\n')[0]}`);
    appendFileSync(jsonl, JSON.stringify({ benchmark: name, cap, failed: r.stderr.trim().split('\n')[0], exit: r.status }) + '\n');
    return;
  }
  const rows = JSON.parse(r.stdout) as Row[];
  const pub = published(dir);
  const tally = { unsat: 0, sat: 0, unknown: 0, timeout: 0, against: 0, pubUnsat: 0, pubSat: 0 };
  const against: string[] = [];
  let cpu = 0;
  console.log(`\n## ${name} (${n} instances, limit min(listed, ${cap} s), ${jobs} worker(s))\n`);
  console.log('| network | property | verdict | published (unsat/sat tools) | time (s) |\n| --- | --- | --- | --- | --- |');
  for (const x of rows) {
    const p = pub.get(`${normalize(x.model)},${normalize(x.property)}`);
    const verdict = x.result === 'unknown' && x.reason === 'timeout' ? 'timeout' : x.result;
    tally[x.result]++;
    if (verdict === 'timeout') tally.timeout++;
    if (p?.verdict === 'unsat') tally.pubUnsat++;
    if (p?.verdict === 'sat') tally.pubSat++;
    // against: a decided verdict opposite to the published decided one; disputed: opposite to a minority of tools
    const decided = x.result !== 'unknown' && (p?.verdict === 'sat' || p?.verdict === 'unsat');
    const opposite = decided && p!.verdict !== x.result;
    const minority = x.result === 'sat' ? (p?.unsat ?? 0) > 0 : x.result === 'unsat' ? (p?.sat ?? 0) > 0 : false;
    if (opposite || minority) {
      if (opposite) tally.against++;
      against.push(`${opposite ? 'AGAINST' : 'disputed'}: ${base(x.model)} ${base(x.property)}: ours ${x.result}, published ${p?.verdict} (${p?.unsat} unsat / ${p?.sat} sat tools)`);
    }
    cpu += x.timeMs;
    console.log(`| ${base(x.model)} | ${base(x.property)} | ${verdict}${x.reason && verdict !== 'timeout' ? ` (${x.reason.slice(0, 60)})` : ''} | ${p ? `${p.verdict} (${p.unsat}/${p.sat})` : '?'} | ${(x.timeMs / 1000).toFixed(1)} |`);
    appendFileSync(jsonl, JSON.stringify({ benchmark: name, cap, jobs, model: base(x.model), property: base(x.property), result: x.result, reason: x.reason, timeMs: x.timeMs, boxes: x.boxes, published: p ?? null, opposite }) + '\n');
  }
  console.log(`\n${name}: ${tally.unsat} unsat, ${tally.sat} sat decided (published among these: ${tally.pubUnsat} unsat, ${tally.pubSat} sat), ${tally.unknown} unknown (${tally.timeout} timeout); ${tally.against} against a published verdict; wall-clock ${wall.toFixed(0)} s, ${(cpu / 1000).toFixed(0)} s summed over instances`);
  for (const a of against) console.log(`  ${a}`);
}

const base = (p: string): string => p.split('/').pop()!.replace(/\.(onnx|vnnlib)$/, '');

if (!existsSync(root)) {
  console.log(`${root} not found: nothing to run`);
  process.exit(0);
}
mkdirSync(out, { recursive: true });
for (const name of readdirSync(root).sort()) {
  if (!existsSync(join(root, name, 'expected_verdicts.csv')) || (only && !only.has(name))) continue;
  runBenchmark(name);
}
