/**
 * Issue 29: the job queue's own cost per job, apart from the work: N near-empty jobs (census finishing tasks on a
 * 2-4-1 network, settled by the first bounds) on one local worker thread, then on 1 and 2 `nnshrink worker`
 * processes over a Redis on this machine, each after a warm-up round (threads started, modules and the MILP solver
 * loaded). Overhead per job = (queue time - thread time) x workers / N.
 * Run: node --import tsx bench/queue-overhead.ts [N=400]
 */
import { makeBox } from '../src/model/box.ts';
import { randomNetwork } from '../src/demo/random-network.ts';
import { WorkerPool } from '../src/pool/pool.ts';
import { QueueRunner } from '../src/queue/coordinator.ts';
import { parseRedisUrl } from '../src/queue/url.ts';
import { VERSION } from '../src/version.ts';
import type { NeuronTask } from '../src/verify/phase/neuron-task.ts';
import { startRedis, startWorker } from '../test/helpers/redis-server.ts';

const n = Number(process.argv[2] ?? 400);
const net = randomNetwork(1, [2, 4, 1]);
const box = makeBox([0, 0], [1, 1]);
// distinct jobs (the queue keys jobs by content): the time limit differs in its last digits
const jobs = (round: number, count: number): NeuronTask[] => Array.from({ length: count }, (_, i) => ({ net, boxes: [box], layer: 0, index: i % 4, sign: -1 as const, timeMs: 50 + round + i * 1e-6 }));
const module = new URL('../src/verify/phase/neuron-task.ts', import.meta.url).href;

const pool = new WorkerPool(1, { threads: true });
const onThread = async (js: NeuronTask[]): Promise<void> => void (await Promise.all(js.map((j) => pool.runOne(module, 'neuronTaskJob', j))));
await onThread(jobs(0, 4));
let t0 = performance.now();
await onThread(jobs(1, n));
const threadMs = (performance.now() - t0) / n;
await pool.close();
console.log(`one local thread: ${threadMs.toFixed(2)} ms per job`);

const redis = await startRedis();
for (const count of [1, 2]) {
  const workers = await Promise.all(Array.from({ length: count }, () => startWorker(redis.url)));
  const runner = await QueueRunner.open({ target: parseRedisUrl(redis.url), version: VERSION });
  await runner.run(module, 'neuronTaskJob', jobs(10 + count, 4 * count));
  t0 = performance.now();
  await runner.run(module, 'neuronTaskJob', jobs(20 + count, n));
  const queueMs = (performance.now() - t0) / n;
  await runner.close();
  await Promise.all(workers.map((w) => w.stop()));
  console.log(`${count} worker process(es): ${queueMs.toFixed(2)} ms per job; overhead ${((queueMs * count - threadMs)).toFixed(2)} ms per job and worker`);
}
await redis.stop();
