/**
 * Issue 29, benchmark 3: the VNN-COMP 2021 ACAS Xu instances (acasxu_instances.csv) decided with 2 local worker
 * threads, then through the job queue by 2 `nnshrink worker` processes on a Redis on this machine (the model and
 * property files travel with the jobs, as blobs); verdicts compared with each other and with the published ones.
 * Run: node --import tsx bench/queue-vnncomp.ts [timeoutSeconds=60] [count=186] [first row=0]
 * Per-instance times go to bench/out/queue-vnncomp.json (bench/queue-scaling.ts reads them).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPool } from '../src/pool/pool.ts';
import type { PropertyResult } from '../src/verify/property/property.ts';
import type { InstanceJob } from '../src/verify/property/instance.ts';
import { QueueRunner } from '../src/queue/coordinator.ts';
import { parseRedisUrl } from '../src/queue/url.ts';
import { VERSION } from '../src/version.ts';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import { startRedis, startWorker } from '../test/helpers/redis-server.ts';

const timeoutMs = Number(process.argv[2] ?? 60) * 1000;
const dir = join(SHARED_NETS, 'acasxu');
const rows = readFileSync(join(dir, 'vnnlib/acasxu_instances.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
const expected = new Map(readFileSync(join(dir, 'vnnlib/expected_verdicts.csv'), 'utf8').trim().split('\n').map((l) => {
  const [n, p, v] = l.split(',');
  return [`${n},${p}`, v.trim()];
}));
const start = Number(process.argv[4] ?? 0);
const chosen = rows.slice(start, start + Number(process.argv[3] ?? rows.length));
const jobs: InstanceJob[] = chosen.map(([net, prop]) => ({ model: join(dir, 'onnx', net), property: join(dir, 'vnnlib', prop), timeoutMs }));
const module = new URL('../src/verify/property/instance.ts', import.meta.url).href;

function tally(rs: PropertyResult[]): string {
  const t = { sat: 0, unsat: 0, unknown: 0, wrong: 0 };
  rs.forEach((r, i) => {
    t[r.result]++;
    const exp = expected.get(`${chosen[i][0]},${chosen[i][1]}`);
    if (r.result !== 'unknown' && exp && r.result !== exp) t.wrong++;
  });
  return `${t.sat} sat, ${t.unsat} unsat, ${t.unknown} unknown, ${t.wrong} against the published verdict`;
}

let t0 = Date.now();
const local = await runPool<InstanceJob, PropertyResult>(module, 'decideInstance', jobs, 2);
const localS = (Date.now() - t0) / 1000;
console.log(`local, 2 threads: ${jobs.length} instances in ${localS.toFixed(0)} s: ${tally(local)}`);

const redis = await startRedis();
const workers = await Promise.all([startWorker(redis.url), startWorker(redis.url)]);
const runner = await QueueRunner.open({ target: parseRedisUrl(redis.url), version: VERSION });
t0 = Date.now();
const queued = await runner.run<InstanceJob, PropertyResult>(module, 'decideInstance', jobs);
const queueS = (Date.now() - t0) / 1000;
await runner.close();
await Promise.all(workers.map((w) => w.stop()));
await redis.stop();
const differ = local.map((r, i) => (r.result !== queued[i].result ? `${chosen[i][0].replace('ACASXU_run2a_', '').replace('_batch_2000.onnx', '')}:${chosen[i][1]} ${r.result}/${queued[i].result}` : '')).filter(Boolean);
console.log(`queue, 2 worker processes: ${queueS.toFixed(0)} s (${((100 * queueS) / localS - 100).toFixed(1)}% against local): ${tally(queued)}`);
console.log(`verdicts that differ (local/queue): ${differ.length ? differ.join(', ') : 'none'}`);
mkdirSync(new URL('./out', import.meta.url), { recursive: true });
writeFileSync(new URL('./out/queue-vnncomp.json', import.meta.url), JSON.stringify({ timeoutMs, localS, queueS, instances: chosen.map(([net, prop], i) => ({ net, prop, local: local[i].result, queued: queued[i].result, localMs: local[i].timeMs, queuedMs: queued[i].timeMs })) }) + '\n');
