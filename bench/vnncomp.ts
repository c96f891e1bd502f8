/**
 * VNN-COMP 2021 ACAS Xu: the 186 instances of acasxu_instances.csv; verdict per instance against the published one.
 * Instances run side by side on the worker pool (one per core by default); the total is wall-clock time.
 * Run: node --import tsx bench/vnncomp.ts [timeoutSeconds=10] [count] [first row, 0-based] [workers]
 *  or: node --import tsx bench/vnncomp.ts timeoutSeconds NET:PROP,NET:PROP,... [workers]   (e.g. 1_8:2 = network
 *      1_8 on property 2; the listed instances only)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPool, defaultWorkers } from '../src/pool/pool.ts';
import type { PropertyResult } from '../src/verify/property/property.ts';
import type { InstanceJob } from '../src/verify/property/instance.ts';
import { SHARED_NETS } from '../test/helpers/shared.ts';

const timeout = Number(process.argv[2] ?? 10) * 1000;
const dir = join(SHARED_NETS, 'acasxu');
const rows = readFileSync(join(dir, 'vnnlib/acasxu_instances.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
const expected = new Map(readFileSync(join(dir, 'vnnlib/expected_verdicts.csv'), 'utf8').trim().split('\n').map((l) => {
  const [n, p, v] = l.split(',');
  return [`${n},${p}`, v.trim()];
}));
const listed = process.argv[3]?.includes(':');
const start = listed ? 0 : Number(process.argv[4] ?? 0);
const chosen = listed
  ? process.argv[3].split(',').map((s) => {
      const [net, prop] = s.split(':');
      return [`ACASXU_run2a_${net}_batch_2000.onnx`, `prop_${prop}.vnnlib`];
    })
  : rows.slice(start, start + Math.min(Number(process.argv[3] ?? rows.length), rows.length - start));
const n = chosen.length;
const workers = Number(process.argv[listed ? 4 : 5] ?? defaultWorkers());
const jobs: InstanceJob[] = chosen.map(([net, prop]) => ({ model: join(dir, 'onnx', net), property: join(dir, 'vnnlib', prop), timeoutMs: timeout }));
const tally = { sat: 0, unsat: 0, unknown: 0, wrong: 0 };
let cpu = 0;
const t0 = Date.now();
const results = await runPool<InstanceJob, PropertyResult>(new URL('../src/verify/property/instance.ts', import.meta.url).href, 'decideInstance', jobs, workers);
console.log('| network | property | verdict | expected | boxes | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- |');
chosen.forEach(([net, prop], i) => {
  const r = results[i];
  const exp = expected.get(`${net},${prop}`) ?? '?';
  tally[r.result]++;
  if (r.result !== 'unknown' && exp !== '?' && r.result !== exp) tally.wrong++;
  cpu += r.timeMs;
  console.log(`| ${net.replace('ACASXU_run2a_', '').replace('_batch_2000.onnx', '')} | ${prop.replace('.vnnlib', '')} | ${r.result} | ${exp} | ${r.boxes} | ${(r.timeMs / 1000).toFixed(2)} |`);
});
const wall = (Date.now() - t0) / 1000;
console.log(`\n${n} instances: ${tally.sat} sat, ${tally.unsat} unsat, ${tally.unknown} unknown, ${tally.wrong} disagreeing with the published verdict; wall-clock ${wall.toFixed(0)} s on ${workers} worker(s), ${(cpu / 1000).toFixed(0)} s summed over instances (timeout ${timeout / 1000} s each)`);
