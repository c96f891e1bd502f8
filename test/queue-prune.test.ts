/**
 * prune on the job queue (issue 29) against its own redis-server on 127.0.0.1 and two `nnshrink worker` processes:
 * the census's tree parts and finishing tasks, and the final check's sample chunks, run on the workers, and the
 * pruned network and its certificate are the local run's, bit for bit (work limits, not clocks, stop the searches);
 * a bad URL is refused in one line before any work.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plantedNetwork } from '../src/demo/planted.ts';
import { makeBox } from '../src/model/box.ts';
import { jsonNetworkText } from '../src/formats/json.ts';
import { sampleCompare, sampleCompareParallel, type SampleRequest } from '../src/simplify/sample-compare.ts';
import { QueueRunner } from '../src/queue/coordinator.ts';
import { kindNamed } from '../src/queue/kinds.ts';
import { parseRedisUrl } from '../src/queue/url.ts';
import { VERSION } from '../src/version.ts';
import { randomNetwork } from './helpers/nets.ts';
import { runCli } from './helpers/run-cli.ts';
import { NO_REDIS, useRedisWithWorkers } from './helpers/redis-server.ts';

const q = useRedisWithWorkers(2);
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-queue-prune-'));

after(async () => {
  rmSync(dir, { recursive: true, force: true });
});

/** A certificate without its times and date (the only fields that depend on the machine's pace and the clock). */
function timeless(text: string): unknown {
  return JSON.parse(text, (k, v) => (/time|createdAt/i.test(k) ? undefined : v));
}

test('queue: prune --redis on two workers writes the local network and certificate, bit for bit', { skip: NO_REDIS }, async () => {
  const { net } = plantedNetwork(23, [3, 14, 14, 12, 2]);
  writeFileSync(join(dir, 'p.json'), jsonNetworkText(net));
  // a work limit stops the census's tree early, so finishing tasks follow it onto the queue
  const args = (out: string) => ['prune', join(dir, 'p.json'), '--domain', '-1,-1,-1:1,1,1', '-o', join(dir, out), '--max-boxes', '4', '--timeout', '60', '--json'];
  const local = await runCli([...args('local.json'), '--jobs', '1'], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(local.code, 0, local.stderr);
  const seen = q.workers.map((w) => w.log().length);
  const queued = await runCli([...args('queued.json'), '--redis', q.redis.url], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(queued.code, 0, queued.stderr);
  assert.match(queued.stderr, /queue run [0-9a-f]{16} on redis:\/\/127\.0\.0\.1/);
  const logs = q.workers.map((w, i) => w.log().slice(seen[i])).join('\n');
  assert.match(logs, /census-tree \S+: done/);
  assert.equal(readFileSync(join(dir, 'queued.json'), 'utf8'), readFileSync(join(dir, 'local.json'), 'utf8'));
  const cert = (f: string) => timeless(readFileSync(join(dir, `${f}.certificate.json`), 'utf8'));
  const c = cert('local.json') as { census: { never: number; always: number } };
  // the certificate names its output file: the two differ only there
  assert.deepEqual({ ...(cert('queued.json') as object), output: null }, { ...c, output: null });
  assert.ok(c.census.never + c.census.always > 0, 'the census proved phases, so something was pruned');
});

test('queue: the final check\'s sample chunks on the workers give the figures of one thread, bit for bit', { skip: NO_REDIS }, async () => {
  const f = randomNetwork(5, [4, 16, 16, 3]);
  const g = randomNetwork(6, [4, 16, 16, 3]);
  const req: SampleRequest = { f, g, domain: [makeBox([-1, -1, -1, -1], [1, 1, 1, 1]), makeBox([0, 0, 0, 0], [2, 1, 1, 1])], tolerance: { kind: 'class', order: 'argmax', margin: 0 }, count: 10_000, seed: 7 };
  const here = sampleCompare(req);
  const r = await QueueRunner.open({ target: parseRedisUrl(q.redis.url), version: VERSION });
  let queued;
  try {
    // minWork 0: the chunks go to the queue however small the networks
    queued = await sampleCompareParallel(req, r, 0);
  } finally {
    await r.close();
  }
  assert.deepEqual(queued, here);
  assert.ok((here.classDisagreements ?? 0) > 0 && here.worst, 'two unrelated networks disagree somewhere');
  assert.ok(q.workers.some((w) => /sample-chunk \S+: done/.test(w.log())));
});

test('queue: prune --redis with a bad URL or no server is refused in one line, nothing written', { skip: NO_REDIS }, async () => {
  writeFileSync(join(dir, 'b.json'), jsonNetworkText(randomNetwork(24, [3, 8, 8, 2])));
  const args = ['prune', join(dir, 'b.json'), '--domain', '-1,-1,-1:1,1,1', '-o', join(dir, 'bad.json')];
  for (const url of ['http://127.0.0.1:6379', `redis://127.0.0.1:${q.redis.port + 1}`]) {
    const r = await runCli([...args, '--redis', url], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^nnshrink: .*redis/i);
  }
  assert.equal(existsSync(join(dir, 'bad.json')), false);
});

test('queue: a census task with no boxes left for MILP is a valid job (prune of ACAS Xu 1_1 sends them)', () => {
  const net = randomNetwork(7, [3, 6, 2]);
  const task = { net, boxes: [makeBox([-1, -1, -1], [1, 1, 1])], layer: 0, index: 2, sign: 1, timeMs: 1000, milpBoxes: [] };
  const kind = kindNamed('census-task')!;
  assert.doesNotThrow(() => kind.accept(task, dir));
  assert.throws(() => kind.accept({ ...task, milpBoxes: [makeBox([-1, -1], [1, 1])] }, dir), /census task: MILP box 1/);
});
