/**
 * Issue 29, equiv's product method on the queue: two random networks of different shapes (3 inputs; the pair of
 * test/queue-equiv.test.ts), `--epsilon E` with a work limit, decided with 1 and 2 local threads and with 2 `nnshrink
 * worker` processes over a Redis on this machine. Wall and CPU (coordinator: process.cpuUsage; workers: /proc), the
 * boxes, and whether the answers agree; the queue's cost per box = (queue wall - 1-thread wall) / boxes split there.
 * Run: node --import tsx bench/queue-equiv.ts [epsilon=2.6] [max boxes=400]
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonNetworkText } from '../src/formats/json.ts';
import { loadModel } from '../src/formats/load.ts';
import { makeBox } from '../src/model/box.ts';
import { equivModels, type EquivModelsOptions, type EquivResult } from '../src/api/equiv.ts';
import { QueueRunner } from '../src/queue/coordinator.ts';
import { parseRedisUrl } from '../src/queue/url.ts';
import { VERSION } from '../src/version.ts';
import { randomNetwork } from '../test/helpers/nets.ts';
import { startRedis, startWorker } from '../test/helpers/redis-server.ts';

const epsilon = Number(process.argv[2] ?? 2.6);
const maxBoxes = Number(process.argv[3] ?? 400);
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-bench-equiv-'));
writeFileSync(join(dir, 'f.json'), jsonNetworkText(randomNetwork(41, [3, 12, 12, 2])));
writeFileSync(join(dir, 'g.json'), jsonNetworkText(randomNetwork(42, [3, 10, 10, 10, 2])));
const [f, g] = [loadModel(join(dir, 'f.json')), loadModel(join(dir, 'g.json'))];
const o: EquivModelsOptions = { question: { epsilon }, domain: makeBox([-1, -1, -1], [1, 1, 1]), method: 'product', maxBoxes, timeoutMs: 600_000 };

const procCpu = (pid: number): number => {
  const x = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(x[11]) + Number(x[12])) / 100;
};
const ownCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const line = (what: string, r: EquivResult, wall: number, cpu: number): void => console.log(`${what}: ${r.result}, ${r.boxes} boxes, ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU`);

async function timed(workers: EquivModelsOptions['workers']): Promise<{ r: EquivResult; wall: number; cpu: number }> {
  const [t0, c0] = [Date.now(), ownCpu()];
  const r = await equivModels(f, g, { ...o, workers });
  return { r, wall: (Date.now() - t0) / 1000, cpu: ownCpu() - c0 };
}

const one = await timed(1);
line('local, 1 thread', one.r, one.wall, one.cpu);
const two = await timed(2);
line('local, 2 threads', two.r, two.wall, two.cpu);
const redis = await startRedis();
const workers = await Promise.all([startWorker(redis.url), startWorker(redis.url)]);
try {
  const w0 = workers.map((w) => procCpu(w.proc.pid!));
  const runner = await QueueRunner.open({ target: parseRedisUrl(redis.url), version: VERSION });
  let q;
  try {
    q = await timed(runner);
  } finally {
    await runner.close();
  }
  const wcpu = workers.reduce((s, w, k) => s + procCpu(w.proc.pid!) - w0[k], 0);
  const steps = workers.reduce((s, w) => s + (w.log().match(/split-step \S+: done/g)?.length ?? 0), 0);
  line('queue, 2 worker processes', q.r, q.wall, q.cpu + wcpu);
  const same = JSON.stringify({ ...q.r, timeMs: 0 }) === JSON.stringify({ ...one.r, timeMs: 0 });
  console.log(`  workers' CPU ${wcpu.toFixed(1)} s, ${steps} boxes split on them; answer as local: ${same}; cost per box over 1 thread ${((1000 * (q.wall - one.wall)) / Math.max(1, steps)).toFixed(1)} ms`);
} finally {
  await Promise.all(workers.map((w) => w.stop()));
  await redis.stop();
}
