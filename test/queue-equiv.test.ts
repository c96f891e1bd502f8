/**
 * equiv's product method on the job queue (issue 29) against its own redis-server on 127.0.0.1 and two
 * `nnshrink worker` processes: the input-splitting trees' steps (8 boxes at a time) run on the workers, and the
 * verdict, the proved bound and the boxes counted are the local ones (work limits, not clocks, stop the searches);
 * the maximisations of --epsilon 0 step there too;
 * --redis without --method product is refused in one line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBox } from '../src/model/box.ts';
import { jsonNetworkText } from '../src/formats/json.ts';
import { loadModel } from '../src/formats/load.ts';
import { equivModels, type EquivModelsOptions, type EquivResult } from '../src/api/equiv.ts';
import { QueueRunner } from '../src/queue/coordinator.ts';
import { parseRedisUrl } from '../src/queue/url.ts';
import { VERSION } from '../src/version.ts';
import { randomNetwork } from './helpers/nets.ts';
import { runCli } from './helpers/run-cli.ts';
import { NO_REDIS, useRedisWithWorkers } from './helpers/redis-server.ts';

const q = useRedisWithWorkers(2);
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-queue-equiv-'));
const [fPath, gPath] = [join(dir, 'f.json'), join(dir, 'g.json')];

before(async () => {
  // two networks of different shapes: the product method
  writeFileSync(fPath, jsonNetworkText(randomNetwork(41, [3, 12, 12, 2])));
  writeFileSync(gPath, jsonNetworkText(randomNetwork(42, [3, 10, 10, 10, 2])));
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
});

/** The answer without its time (the one field that depends on the machine's pace). */
const timeless = ({ timeMs: _t, ...rest }: EquivResult) => rest;

async function bothWays(o: Omit<EquivModelsOptions, 'workers'>): Promise<[EquivResult, EquivResult]> {
  const [f, g] = [loadModel(fPath), loadModel(gPath)];
  const local = await equivModels(f, g, { ...o, workers: 1 });
  const r = await QueueRunner.open({ target: parseRedisUrl(q.redis.url), version: VERSION });
  try {
    return [local, await equivModels(f, g, { ...o, workers: r })];
  } finally {
    await r.close();
  }
}

const domain = makeBox([-1, -1, -1], [1, 1, 1]);

test('queue: equiv --epsilon 0 by the product method steps its maximisations on the workers, soundly', { skip: NO_REDIS }, async () => {
  const seen = q.workers.map((w) => w.log().length);
  // the maximisations' witness walks are limited by clocks, so their bounds differ from run to run even on one thread
  // (measured: 2.186 and 2.389 in two local runs): not compared here, only checked against what evaluation found
  const [local, queued] = await bothWays({ question: { epsilon: 0 }, domain, method: 'product', maxBoxes: 40, timeoutMs: 20_000 });
  for (const r of [local, queued]) {
    assert.equal(r.method, 'product-maximise');
    assert.ok(typeof r.provedMaxDiff === 'number' && r.provedMaxDiff >= (r.foundMaxDiff ?? Infinity), JSON.stringify(r));
  }
  assert.ok(q.workers.some((w, i) => /max-step \S+: done/.test(w.log().slice(seen[i]))), 'the maximisations stepped on the workers');
});

test('queue: equiv --epsilon E by the product method on two workers gives the local verdict and boxes', { skip: NO_REDIS }, async () => {
  const seen = q.workers.map((w) => w.log().length);
  // above the largest difference found (1.72): the input-splitting tree proves it in about 50 boxes
  const [local, queued] = await bothWays({ question: { epsilon: 2.6 }, domain, method: 'product', maxBoxes: 400, timeoutMs: 600_000 });
  assert.equal(local.result, 'proved');
  assert.deepEqual(timeless(queued), timeless(local));
  assert.ok(q.workers.some((w, i) => /split-step \S+: done/.test(w.log().slice(seen[i]))), 'the property search stepped on the workers');
});

test('queue: equiv --redis goes with --method product on chains, said in one line', { skip: NO_REDIS }, async () => {
  const r = await runCli(['equiv', fPath, gPath, '--domain', '-1,-1,-1:1,1,1', '--epsilon', '1', '--redis', q.redis.url], { cwd: dir, timeoutMs: 60_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--redis and --resume go with --method product/);
  const diff = await runCli(['equiv', fPath, fPath, '--domain', '-1,-1,-1:1,1,1', '--epsilon', '1', '--method', 'diff', '--redis', q.redis.url], { cwd: dir, timeoutMs: 60_000 });
  assert.equal(diff.code, 2, diff.stderr);
  assert.match(diff.stderr, /equiv --redis goes with --method product/);
});

test('queue: equiv --method product --redis through the CLI prints the local answer', { skip: NO_REDIS }, async () => {
  const args = ['equiv', fPath, gPath, '--domain', '-1,-1,-1:1,1,1', '--epsilon', '2.6', '--method', 'product', '--max-boxes', '400', '--timeout', '600', '--json'];
  const local = await runCli([...args, '--jobs', '1'], { cwd: dir, timeoutMs: 120_000 });
  const queued = await runCli([...args, '--redis', q.redis.url], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(local.code, 0, local.stderr);
  assert.equal(queued.code, 0, queued.stderr);
  const answer = (t: string) => {
    const { timeMs: _t, ...rest } = JSON.parse(t) as { timeMs: number };
    return rest;
  };
  assert.deepEqual(answer(queued.stdout), answer(local.stdout));
});
