/**
 * Issue 29, prune on the queue: ACAS Xu 1_1 pruned exactly on its full raw box with 2 local worker threads, then
 * with 2 `nnshrink worker` processes over a Redis on this machine (the census's tree halves and finishing tasks on
 * the workers), then locally again (the load of a shared machine drifts: the local runs bracket the queue run).
 * Wall and CPU times: the coordinator's own (process.cpuUsage, its threads included) plus, for the queue run, the
 * workers' and Redis's (/proc/PID/stat). Whether the written networks and certificates are the same is reported.
 * Run: node --import tsx bench/queue-prune.ts [net=1_1] [query seconds=30] [max boxes per search, 0: none]
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../src/formats/load.ts';
import { prune, type PruneOptions, type Pruned } from '../src/api/prune.ts';
import { jsonNetworkText } from '../src/formats/json.ts';
import { QueueRunner } from '../src/queue/coordinator.ts';
import { parseRedisUrl } from '../src/queue/url.ts';
import { VERSION } from '../src/version.ts';
import { acasNnet } from '../test/helpers/shared.ts';
import { startRedis, startWorker } from '../test/helpers/redis-server.ts';

const id = process.argv[2] ?? '1_1';
const queryS = Number(process.argv[3] ?? 30);
const maxBoxes = Number(process.argv[4] ?? 0);
const [i, j] = id.split('_').map(Number);
const model = loadModel(acasNnet(i, j));
const opts: PruneOptions = { output: '/tmp/queue-prune-bench.onnx', write: false, timeoutMs: queryS * 1000, ...(maxBoxes ? { maxBoxes } : {}) };

/** CPU seconds (user + system) of a process so far, its threads included. */
function procCpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const ownCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const text = (p: Pruned): string => (p.kind === 'chain' ? jsonNetworkText(p.network) : '');
const timeless = (p: Pruned): string => JSON.stringify(p.certificate, (k, v) => (/time|createdAt/i.test(k) ? undefined : v));
/** the certificate's fields (one level down) that differ between two runs */
function differs(a: Pruned, b: Pruned): string[] {
  const flat = (p: Pruned): Record<string, string> => Object.fromEntries(Object.entries(JSON.parse(timeless(p)) as Record<string, unknown>).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v).map(([k2, v2]) => [`${k}.${k2}`, JSON.stringify(v2)]) : [[k, JSON.stringify(v)]])));
  const [x, y] = [flat(a), flat(b)];
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => x[k] !== y[k]);
}

async function local(): Promise<{ p: Pruned; wall: number; cpu: number }> {
  const [t0, c0] = [Date.now(), ownCpu()];
  const p = await prune(model, { ...opts, workers: 2 });
  return { p, wall: (Date.now() - t0) / 1000, cpu: ownCpu() - c0 };
}

const l1 = await local();
console.log(`local, 2 threads: ${l1.wall.toFixed(1)} s wall, ${l1.cpu.toFixed(1)} s CPU; census ${JSON.stringify(l1.p.summary.census)}`);
const redis = await startRedis();
const workers = await Promise.all([startWorker(redis.url), startWorker(redis.url)]);
const pids = workers.map((w) => w.proc.pid!);
const w0 = pids.map(procCpu);
const runner = await QueueRunner.open({ target: parseRedisUrl(redis.url), version: VERSION });
const [t0, c0] = [Date.now(), ownCpu()];
let q: Pruned;
let qWorkers = 0;
try {
  q = await prune(model, { ...opts, workers: runner });
  qWorkers = pids.map((p, k) => procCpu(p) - w0[k]).reduce((a, b) => a + b, 0);
} finally {
  // the workers and the server go whatever happened (a failed run would otherwise leave them running)
  await runner.close();
  await Promise.all(workers.map((w) => w.stop()));
  await redis.stop();
}
const qWall = (Date.now() - t0) / 1000;
const qOwn = ownCpu() - c0;
// per kind: jobs and their summed time on the workers
const perKind = new Map<string, [number, number]>();
for (const w of workers) for (const x of w.log().matchAll(/job (\S+) \S+: done in ([\d.]+) s/g)) {
  const [n, t] = perKind.get(x[1]) ?? [0, 0];
  perKind.set(x[1], [n + 1, t + Number(x[2])]);
}
const jobs = [...perKind].map(([k, [n, t]]) => `${n} ${k} (${t.toFixed(1)} s)`);
const l2 = await local();
console.log(`queue, 2 worker processes: ${qWall.toFixed(1)} s wall, CPU ${(qOwn + qWorkers).toFixed(1)} s (coordinator ${qOwn.toFixed(1)}, workers ${qWorkers.toFixed(1)}); jobs: ${jobs.join(', ')}`);
console.log(`local again: ${l2.wall.toFixed(1)} s wall, ${l2.cpu.toFixed(1)} s CPU`);
console.log(`queue against the mean of the local walls: ${((200 * qWall) / (l1.wall + l2.wall) - 100).toFixed(1)}%; network as local: ${text(q) === text(l1.p)}, certificate as local (times aside): ${timeless(q) === timeless(l1.p)} (fields that differ: ${differs(q, l1.p).join(', ') || 'none'}; between the two local runs: ${differs(l1.p, l2.p).join(', ') || 'none'}); the two local networks alike: ${text(l1.p) === text(l2.p)}`);
