/**
 * Issue 29, benchmarks 1 and 2: slicing ACAS Xu 5_9 (full raw box, exact, adaptive) into N slices with 2 local worker
 * threads, then with 2 `nnshrink worker` processes over a Redis on this machine, then the same with one worker
 * SIGKILLed when half the slices are done. Reports the times, the queue's overhead per job ((queue - local) x workers
 * / jobs), how many slices came out bit for bit the same as the local run's (a query limit is a clock: a slice whose
 * query timed out may differ between any two runs), and the time the kill lost.
 * Run: node --import tsx bench/queue-slice.ts [slices=256] [query seconds=0.1] [finishTasks=4] [final samples=500]
 *   [stalled seconds=5] [net=5_9]
 * The workers' time per job (from their logs) goes to bench/out/queue-slice-jobs.json (bench/queue-scaling.ts).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { readNNet } from '../src/formats/nnet.ts';
import { sliceNetwork, type SliceOptions, type SliceRun } from '../src/slice/slicer.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';
import { jsonNetworkText } from '../src/formats/json.ts';
import { QueueRunner } from '../src/queue/coordinator.ts';
import { parseRedisUrl } from '../src/queue/url.ts';
import { VERSION } from '../src/version.ts';
import { acasNnet } from '../test/helpers/shared.ts';
import { startRedis, startWorker, type TestWorker } from '../test/helpers/redis-server.ts';

const slices = Number(process.argv[2] ?? 256);
const queryS = Number(process.argv[3] ?? 0.1);
const finishTasks = Number(process.argv[4] ?? 4);
const finalSamples = Number(process.argv[5] ?? 500);
const stalledS = String(process.argv[6] ?? 5);
const id = process.argv[7] ?? '5_9';
await loadMilpSolver();
const [i, j] = id.split('_').map(Number);
const m = readNNet(acasNnet(i, j));
const opts: SliceOptions = {
  strategy: 'adaptive', maxSlices: slices, tolerance: { kind: 'exact' }, boundsFn: crownBounds, bounds: 'crown',
  queryTimeoutMs: queryS * 1000, finalTimeoutMs: 4000 * queryS, finalSamples, finishTasks,
};
const texts = (r: SliceRun): string[] => r.slices.map((s) => jsonNetworkText(s.written));
const same = (a: string[], b: string[]): number => a.filter((t, k) => t === b[k]).length;
const meanRelu = (r: SliceRun): number => r.slices.reduce((s, x) => s + x.result.after.reluNeurons, 0) / r.slices.length;

let t0 = Date.now();
const local = await sliceNetwork(m.network, [m.domain!], { ...opts, workers: 2 });
const localS = (Date.now() - t0) / 1000;
console.log(`local, 2 threads: ${local.slices.length} slices in ${localS.toFixed(1)} s, mean ReLUs ${meanRelu(local).toFixed(1)}`);

const redis = await startRedis();
const run = async (kill: boolean): Promise<{ s: number; r: SliceRun; workers: TestWorker[] }> => {
  const workers = await Promise.all([startWorker(redis.url, ['--stalled-seconds', stalledS]), startWorker(redis.url, ['--stalled-seconds', stalledS])]);
  const runner = await QueueRunner.open({ target: parseRedisUrl(redis.url), version: VERSION });
  let done = 0;
  const t = Date.now();
  try {
    const r = await sliceNetwork(m.network, [m.domain!], {
      ...opts,
      workers: runner,
      onProgress: (d) => {
        done = d;
        if (kill && done === Math.floor(slices / 2)) workers[0].proc.kill('SIGKILL');
      },
    });
    return { s: (Date.now() - t) / 1000, r, workers };
  } finally {
    await runner.close();
    await Promise.all(workers.map((w) => w.stop()));
  }
};
t0 = Date.now();
const q = await run(false);
const jobTimes = [...q.workers.flatMap((w) => Array.from(w.log().matchAll(/done in ([\d.]+) s/g), (x) => Number(x[1])))];
const overheadMs = ((q.s - localS) * 2 * 1000) / slices;
console.log(`queue, 2 worker processes: ${q.s.toFixed(1)} s (${((100 * q.s) / localS - 100).toFixed(1)}% against local), overhead ${overheadMs.toFixed(1)} ms per job; ${same(texts(q.r), texts(local))}/${slices} slices bit for bit as local; worker time per job ${(jobTimes.reduce((a, b) => a + b, 0) / jobTimes.length).toFixed(3)} s (${jobTimes.length} jobs)`);
// local again: the load of a shared machine drifts (the two local runs bracket the queue run), and a 0.1 s query
// limit is a clock, so two local runs differ in some slices too
t0 = Date.now();
const local2 = await sliceNetwork(m.network, [m.domain!], { ...opts, workers: 2 });
const local2S = (Date.now() - t0) / 1000;
console.log(`local again: ${local2S.toFixed(1)} s; ${same(texts(local2), texts(local))}/${slices} slices bit for bit as the first local run; queue against the mean of the two local times ${((200 * q.s) / (localS + local2S) - 100).toFixed(1)}%`);
const k = await run(true);
console.log(`queue, one worker SIGKILLed at ${Math.floor(slices / 2)} slices: ${k.s.toFixed(1)} s (${(k.s - q.s).toFixed(1)} s lost), ${k.r.slices.length} slices, ${same(texts(k.r), texts(q.r))}/${slices} bit for bit as the unkilled queue run, ${same(texts(k.r), texts(local))}/${slices} as local; mean ReLUs ${meanRelu(k.r).toFixed(1)}`);
await redis.stop();
mkdirSync(new URL('./out', import.meta.url), { recursive: true });
appendFileSync(new URL('./out/queue-slice.jsonl', import.meta.url), JSON.stringify({ net: id, slices, queryS, finishTasks, finalSamples, localS, local2S, sameLocal2: same(texts(local2), texts(local)), queueS: q.s, killS: k.s, overheadMs, sameQueue: same(texts(q.r), texts(local)), sameKill: same(texts(k.r), texts(local)), meanJobS: jobTimes.reduce((a, b) => a + b, 0) / jobTimes.length }) + '\n');
writeFileSync(new URL('./out/queue-slice-jobs.json', import.meta.url), JSON.stringify(jobTimes) + '\n');
