/**
 * VNN-COMP 2021 ACAS Xu: the 186 instances of acasxu_instances.csv; verdict per instance against the published one.
 * Run: node --import tsx bench/vnncomp.ts [timeoutSeconds=10] [count] [first row, 0-based]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/formats/load.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { decideProperty } from '../src/verify/property.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { SHARED_NETS } from '../test/helpers/shared.ts';

const timeout = Number(process.argv[2] ?? 10) * 1000;
const dir = join(SHARED_NETS, 'acasxu');
const rows = readFileSync(join(dir, 'vnnlib/acasxu_instances.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
const expected = new Map(readFileSync(join(dir, 'vnnlib/expected_verdicts.csv'), 'utf8').trim().split('\n').map((l) => {
  const [n, p, v] = l.split(',');
  return [`${n},${p}`, v.trim()];
}));
const start = Number(process.argv[4] ?? 0);
const n = Number(process.argv[3] ?? rows.length);
const tally = { sat: 0, unsat: 0, unknown: 0, wrong: 0 };
let total = 0;
console.log('| network | property | verdict | expected | boxes | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [net, prop] of rows.slice(start, start + n)) {
  const m = loadModel(join(dir, 'onnx', net));
  const p = readVnnlib(join(dir, 'vnnlib', prop));
  const r = decideProperty(m.network, p, { boundsFn: crownBounds, outputLinearLower, timeoutMs: timeout });
  const exp = expected.get(`${net},${prop}`) ?? '?';
  tally[r.result]++;
  if (r.result !== 'unknown' && exp !== '?' && r.result !== exp) tally.wrong++;
  total += r.timeMs;
  console.log(`| ${net.replace('ACASXU_run2a_', '').replace('_batch_2000.onnx', '')} | ${prop.replace('.vnnlib', '')} | ${r.result} | ${exp} | ${r.boxes} | ${(r.timeMs / 1000).toFixed(2)} |`);
}
console.log(`\n${n} instances: ${tally.sat} sat, ${tally.unsat} unsat, ${tally.unknown} unknown, ${tally.wrong} disagreeing with the published verdict; total ${(total / 1000).toFixed(0)} s (timeout ${timeout / 1000} s each)`);
