/**
 * Issue 29, benchmark 4: how a queued run's time would scale with N workers, from measured per-job times (a
 * simulation: this machine has 2 cores). Jobs go in list order to the first free worker, as BullMQ hands them out;
 * each costs its measured time plus the queue's measured overhead per job; the coordinator's own serial time is added.
 * Reads bench/out/queue-vnncomp.json (bench/queue-vnncomp.ts) or, with a second argument, a JSON list of job seconds.
 * Run: node --import tsx bench/queue-scaling.ts [overhead ms per job=30] [jobs.json] [serial seconds=0]
 */
import { readFileSync } from 'node:fs';

const overheadS = Number(process.argv[2] ?? 30) / 1000;
const file = process.argv[3];
const serialS = Number(process.argv[4] ?? 0);
const times: number[] = file
  ? (JSON.parse(readFileSync(file, 'utf8')) as number[])
  : (JSON.parse(readFileSync(new URL('./out/queue-vnncomp.json', import.meta.url), 'utf8')) as { instances: Array<{ localMs: number }> }).instances.map((x) => x.localMs / 1000);

/** list scheduling: each job to the worker free first */
function makespan(n: number): number {
  const free = new Float64Array(n);
  for (const t of times) {
    let w = 0;
    for (let i = 1; i < n; i++) if (free[i] < free[w]) w = i;
    free[w] += t + overheadS;
  }
  return serialS + Math.max(...free);
}

const sum = times.reduce((a, b) => a + b, 0);
const longest = Math.max(...times);
console.log(`${times.length} jobs, ${sum.toFixed(0)} s of work, the longest ${longest.toFixed(1)} s; overhead ${(overheadS * 1000).toFixed(0)} ms per job; serial ${serialS} s`);
console.log('| workers | predicted wall (s) | speed-up over 1 | efficiency | bound: longest job + serial (s) |');
console.log('| --- | --- | --- | --- | --- |');
const one = makespan(1);
for (const n of [1, 2, 4, 8, 16, 32, 64, 128]) {
  const t = makespan(n);
  console.log(`| ${n} | ${t.toFixed(0)} | ${(one / t).toFixed(1)} | ${((100 * one) / t / n).toFixed(0)}% | ${(longest + serialS).toFixed(0)} |`);
}
