/**
 * The job queue (issue 29) against its own redis-server on 127.0.0.1: two `nnshrink worker` processes run a slice, a
 * census and an instance list, and the answers are the local ones, bit for bit (the networks written, the phases, the
 * verdicts); a worker killed with SIGKILL mid-job loses nothing (its job goes back to the queue) and the run's answer
 * does not change.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plantedNetwork } from '../src/demo/planted.ts';
import { makeBox } from '../src/model/box.ts';
import { sliceNetwork, type SliceOptions } from '../src/slice/slicer.ts';
import { symbolicBounds } from '../src/bounds/symbolic.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { phaseCensusParallel } from '../src/verify/phase/phase.ts';
import { QueueRunner, type QueueStatus } from '../src/queue/coordinator.ts';
import { parseRedisUrl } from '../src/queue/url.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';
import { jsonNetworkText } from '../src/formats/json.ts';
import { VERSION } from '../src/version.ts';
import { runCli } from './helpers/run-cli.ts';
import { WorkerPool } from '../src/pool/pool.ts';
import { randomNetwork } from './helpers/nets.ts';
import { NO_REDIS, startRedis, startWorker, type TestRedis, type TestWorker } from './helpers/redis-server.ts';

let redis: TestRedis;
let workers: TestWorker[] = [];
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-queue-'));

before(async () => {
  if (NO_REDIS) return;
  await loadMilpSolver();
  redis = await startRedis();
  // a killed worker's job is back in the queue within about a second
  workers = await Promise.all([startWorker(redis.url, ['--stalled-seconds', '1']), startWorker(redis.url, ['--stalled-seconds', '1'])]);
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function withQueue<R>(run: (r: QueueRunner, seen: QueueStatus[]) => Promise<R>): Promise<R> {
  const seen: QueueStatus[] = [];
  const r = await QueueRunner.open({ target: parseRedisUrl(redis.url), version: VERSION, onStatus: (s) => seen.push(s) });
  try {
    return await run(r, seen);
  } finally {
    await r.close();
  }
}

const sliceOpts: SliceOptions = {
  strategy: 'adaptive',
  maxSlices: 8,
  tolerance: { kind: 'exact' },
  boundsFn: symbolicBounds,
  bounds: 'crown',
  queryTimeoutMs: 20_000,
  finalTimeoutMs: 40_000,
  finalSamples: 2000,
};

test('queue: a slice on two worker processes is the local slice, network for network and bit for bit', { skip: NO_REDIS }, async () => {
  const { net } = plantedNetwork(21, [3, 12, 12, 10, 2]);
  const dom = [makeBox([-1, -1, -1], [1, 1, 1])];
  const local = await sliceNetwork(net, dom, sliceOpts);
  const { q, seen } = await withQueue(async (r, seen) => ({ q: await sliceNetwork(net, dom, { ...sliceOpts, workers: r }), seen }));
  assert.equal(q.slices.length, 8);
  // typed arrays compared by value and type: the written networks are the same bits
  assert.deepEqual(q.slices.map((s) => s.written), local.slices.map((s) => s.written));
  assert.deepEqual(q.slices.map((s) => [s.result.after, s.exactEps, s.check.verdict.status]), local.slices.map((s) => [s.result.after, s.exactEps, s.check.verdict.status]));
  assert.deepEqual(q.familyCheck, local.familyCheck);
  // both workers took jobs, and the progress counted every one
  assert.equal(seen.at(-1)!.done, 8);
  for (const w of workers) assert.match(w.log(), /slice-prune .*done/);
});

test('queue: a census whose tree and finishing tasks run on the workers decides every neuron as locally', { skip: NO_REDIS }, async () => {
  const net = randomNetwork(1, [3, 24, 24, 24, 2], { weightScale: 1.5, biasScale: 0.6 });
  const dom = [makeBox([-1, -1, -1], [1, 1, 1])];
  // a work limit (not a clock) stops the tree early, so finishing tasks follow; their time is ample
  const opts = { boundsFn: crownBounds, timeoutMs: 60_000, maxBoxes: 4, finishTaskMs: 30_000, samples: 64 };
  const local = await phaseCensusParallel(net, dom, opts, 1);
  const { q, jobs } = await withQueue(async (r, seen) => {
    const c = await phaseCensusParallel(net, dom, opts, r);
    // each round ends with done = total
    return { q: c, jobs: seen.filter((x) => x.done === x.total).reduce((s, x) => s + x.total, 0) };
  });
  assert.deepEqual(q.neurons.map((n) => [n.layer, n.index, n.phase, n.method]), local.neurons.map((n) => [n.layer, n.index, n.phase, n.method]));
  assert.deepEqual(q.counts, local.counts);
  assert.ok(local.counts.never + local.counts.always > 10);
  assert.ok(jobs > 2, `the tree's two parts and finishing tasks went through the queue (${jobs} jobs)`);
});

test('queue: bounds --census through the CLI on the workers prints the local census', { skip: NO_REDIS }, async () => {
  writeFileSync(join(dir, 'c.json'), jsonNetworkText(randomNetwork(2, [3, 24, 24, 24, 2], { weightScale: 1.5, biasScale: 0.6 })));
  const args = ['bounds', join(dir, 'c.json'), '--domain', '-1,-1,-1:1,1,1', '--census', '--timeout', '60', '--json'];
  const local = await runCli([...args, '--jobs', '2'], { cwd: dir, timeoutMs: 120_000 });
  const seen = workers.map((w) => w.log().length);
  const queued = await runCli([...args, '--redis', redis.url], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(local.code, 0, local.stderr);
  assert.equal(queued.code, 0, queued.stderr);
  assert.ok(workers.some((w, i) => /census-tree \S+: done/.test(w.log().slice(seen[i]))), 'the tree halves ran on the workers');
  const phases = (t: string) => (JSON.parse(t) as { neurons: Array<{ layer: number; index: number; phase: string; method: string }> }).neurons.map((n) => [n.layer, n.index, n.phase, n.method]);
  assert.deepEqual(phases(queued.stdout), phases(local.stdout));
  assert.ok(phases(local.stdout).some(([, , p]) => p === 'never'));
});

test('queue: verify --instances through the CLI on the workers gives the local verdicts', { skip: NO_REDIS }, async () => {
  const lines: string[] = [];
  for (let i = 0; i < 4; i++) {
    const net = randomNetwork(30 + i, [2, 10, 10, 2]);
    writeFileSync(join(dir, `n${i}.json`), jsonNetworkText(net));
    // y0 <= y1 asked for on a small box: some hold, some do not
    writeFileSync(join(dir, `p${i}.vnnlib`), `(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (>= X_0 -0.5))\n(assert (<= X_0 0.5))\n(assert (>= X_1 -0.5))\n(assert (<= X_1 0.5))\n(assert (>= Y_0 Y_1))\n`);
    lines.push(`n${i}.json,p${i}.vnnlib,30`);
  }
  writeFileSync(join(dir, 'list.csv'), lines.join('\n') + '\n');
  const local = await runCli(['verify', '--instances', join(dir, 'list.csv'), '--json', '--jobs', '1'], { cwd: dir, timeoutMs: 120_000 });
  const queued = await runCli(['verify', '--instances', join(dir, 'list.csv'), '--json', '--redis', redis.url], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(local.code, 0, local.stderr);
  assert.equal(queued.code, 0, queued.stderr);
  assert.match(queued.stderr, /queue run [0-9a-f]{16} on redis:\/\/127\.0\.0\.1/);
  const verdicts = (t: string) => (JSON.parse(t) as Array<{ result: string; counterexample?: unknown }>).map((r) => [r.result, r.counterexample]);
  assert.deepEqual(verdicts(queued.stdout), verdicts(local.stdout));
  assert.ok(verdicts(local.stdout).every(([r]) => r !== 'unknown'));
});

test('queue: a worker killed with SIGKILL mid-job loses nothing: the slice finishes with the same family', { skip: NO_REDIS }, async () => {
  const { net } = plantedNetwork(22, [3, 14, 14, 12, 2]);
  writeFileSync(join(dir, 'k.json'), jsonNetworkText(net));
  const args = (out: string) => ['slice', join(dir, 'k.json'), '--domain', '-1,-1,-1:1,1,1', '--max-slices', '12', '-o', join(dir, out), '--json'];
  const local = await runCli([...args('local'), '--jobs', '1'], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(local.code, 0, local.stderr);
  const [victim, other] = workers;
  const before = victim.log().length;
  const run = runCli([...args('queued'), '--redis', redis.url], { cwd: dir, timeoutMs: 120_000 });
  // the moment the victim has a job in hand, it dies
  const started = await until(() => /slice-prune (\S+): started/.exec(victim.log().slice(before))?.[1]);
  victim.proc.kill('SIGKILL');
  const queued = await run;
  assert.equal(queued.code, 0, queued.stderr);
  // the job it held was finished by the other worker
  assert.match(other.log(), new RegExp(`slice-prune ${started.replace('/', '\\/')}: done`));
  const nets = (d: string) => readdirSync(join(dir, d)).filter((f) => /^slice-\d+\.json$/.test(f)).sort().map((f) => readFileSync(join(dir, d, f), 'utf8'));
  assert.equal(nets('queued').length, 12);
  assert.deepEqual(nets('queued'), nets('local'));
  workers[0] = await startWorker(redis.url, ['--stalled-seconds', '1']);
});

test('pool runOne (what a queue worker runs its jobs with): jobs arriving one at a time share the threads, off the calling thread', async () => {
  const pool = new WorkerPool(2, { threads: true });
  try {
    const jobs = new URL('./helpers/pool-jobs.ts', import.meta.url).href;
    const rs = await Promise.all([3, 4, 5, 6, 7].map((x) => pool.runOne<number, { value: number; thread: number }>(jobs, 'square', x)));
    assert.deepEqual(rs.map((r) => r.value), [9, 16, 25, 36, 49]);
    assert.ok(rs.every((r) => r.thread !== 0));
    await assert.rejects(pool.runOne(jobs, 'square', -1), /-1 is negative/);
    assert.equal((await pool.runOne<number, { value: number }>(jobs, 'square', 8)).value, 64);
  } finally {
    await pool.close();
  }
});

async function until<T>(f: () => T | undefined, ms = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
