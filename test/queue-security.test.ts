/**
 * The job queue's edges (issue 29), on redis-servers of the test's own on 127.0.0.1: URLs and passwords refused in one
 * line (exit 2, the password never printed), a run refused while a worker of another version is registered, a worker
 * refusing jobs that are not what they claim (another version, a kind not nnshrink's, a key that is not their hash,
 * a NaN weight) at once and without retries, a job that fails on every attempt answered unknown (never proved), and
 * a coordinator killed mid-run continued with --resume without redoing finished jobs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { parseRedisUrl } from '../src/queue/url.ts';
import { blobNames, checkedBlob, decode, encode } from '../src/queue/wire.ts';
import { QueueRunner } from '../src/queue/coordinator.ts';
import { NnsError } from '../src/errors.ts';
import { VERSION } from '../src/version.ts';
import { jsonNetworkText } from '../src/formats/json.ts';
import { plantedNetwork } from '../src/demo/planted.ts';
import { randomNetwork } from './helpers/nets.ts';
import { BIN, runCli } from './helpers/run-cli.ts';
import { makeTlsFiles, NO_REDIS, redisCli, startRedis, startWorker, type TestRedis } from './helpers/redis-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-queue-sec-'));
let open: TestRedis;
let locked: TestRedis;
const PASSWORD = 'pw-9f3k2';

before(async () => {
  if (NO_REDIS) return;
  [open, locked] = await Promise.all([startRedis(), startRedis({ password: PASSWORD })]);
});
after(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 120_000 });
const oneLine = (s: string): void => assert.equal(s.trim().split('\n').length, 1, s);

test('queue URLs: what is accepted, and every bad one refused in one line that never shows the password', () => {
  assert.deepEqual(parseRedisUrl('redis://h.example:7000/3'), { host: 'h.example', port: 7000, db: 3, tls: false, shown: 'redis://h.example:7000/3' });
  const t = parseRedisUrl('rediss://u:p%40ss@10.0.0.2');
  assert.deepEqual([t.tls, t.username, t.password, t.port, t.shown], [true, 'u', 'p@ss', 6379, 'rediss://u:***@10.0.0.2:6379']);
  assert.equal(parseRedisUrl('redis://[::1]:6380').port, 6380);
  const bad: Array<[string, RegExp]> = [
    ['localhost:6379', /not a URL/],
    ['http://h', /scheme 'http'/],
    ['redis://:secretpw@h:99999', /port/],
    ['redis://h/abc', /database/],
    ['redis://h/16', /database 16/],
    ['redis://h?db=1', /no \?query/],
    ['redis://user@h', /user name without a password/],
    ['redis://:%zzsecretpw@h', /bad %-escape/],
    ['redis://h_x', /host/],
  ];
  for (const [url, re] of bad) {
    assert.throws(() => parseRedisUrl(url), (e: unknown) => e instanceof NnsError && re.test(e.message) && !e.message.includes('secretpw') && e.message.startsWith('--redis'), url);
  }
});

test('queue wire: values arrive bit for bit (-0, NaN, infinities, undefined, every typed array), blobs are checked against their hash', () => {
  const f = new Float64Array(2048).map((_, i) => Math.sin(i) * 1e-300 * (i % 3 ? 1 : -1));
  f[0] = -0;
  f[1] = NaN;
  const value = { a: -0, b: NaN, c: -Infinity, d: undefined, list: [1, undefined, Infinity], f, small: new Float64Array([0.1, -0]), u8: new Uint8Array([0, 1, 255]), i32: new Int32Array([-5, 7]), f32: new Float32Array([1.5]), sub: f.subarray(3, 6) };
  const { text, blobs } = encode(value, true);
  assert.equal(blobs.size, 1, 'the large array went as a blob, its view inline');
  assert.deepEqual(blobNames(text), [...blobs.keys()]);
  const back = decode(text, blobs) as typeof value;
  assert.ok(Object.is(back.a, -0) && Number.isNaN(back.b) && back.c === -Infinity && 'd' in back && back.d === undefined);
  assert.deepEqual(back.list, [1, undefined, Infinity]);
  assert.deepEqual(new Uint8Array(back.f.buffer), new Uint8Array(f.buffer));
  assert.ok(back.small instanceof Float64Array && Object.is(back.small[1], -0));
  assert.deepEqual([back.u8, back.i32, back.f32, back.sub], [value.u8, value.i32, value.f32, f.slice(3, 6)]);
  const [name, bytes] = [...blobs][0];
  assert.throws(() => checkedBlob(name, Buffer.concat([bytes.subarray(8), Buffer.alloc(8)])), /does not match its hash/);
  assert.throws(() => checkedBlob(name, null), /not in Redis/);
  assert.throws(() => decode(text), /names blob .* not in Redis/);
  assert.throws(() => decode('{"$a":"f64","b64":"AAA="}'), /not a whole number of f64 values/);
  assert.throws(() => decode('{"$a":"fn","b64":""}'), /bad array tag/);
  assert.throws(() => decode('{"$n":"1e999"}'), /bad number tag/);
  assert.throws(() => decode('{'), /not valid JSON/);
  assert.throws(() => encode({ m: new Map() }, false), /cannot send a Map/);
});

test('queue CLI: bad --redis, --resume alone, --redis with --jobs or without the mode that has jobs: exit 2, one line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['slice', '--default', '-o', join(dir, 'f'), '--redis', 'http://127.0.0.1'], /scheme 'http'/],
    [['slice', '--default', '-o', join(dir, 'f'), '--resume', 'abcdef0123456789'], /--resume RUN_ID goes with --redis/],
    [['slice', '--default', '-o', join(dir, 'f'), '--redis', 'redis://127.0.0.1:1', '--jobs', '2'], /--jobs is for this machine/],
    [['bounds', '--default', '--redis', 'redis://127.0.0.1:1'], /go with --census/],
    [['verify', '--default', join(dir, 'p.vnnlib'), '--redis', 'redis://127.0.0.1:1'], /go with --instances/],
    [['worker'], /missing --redis/],
    [['worker', '--redis', 'redis://127.0.0.1:notaport'], /not a valid URL|port/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    oneLine(r.stderr);
  }
});

test('queue: a wrong or missing password and an unreachable server are one line, exit 2; the right one works', { skip: NO_REDIS }, async () => {
  const port = locked.port;
  const slice = (url: string) => cli(['slice', '--default', '--max-slices', '2', '-o', join(dir, 'pw'), '--redis', url]);
  const wrong = await slice(`redis://:wrongsecret@127.0.0.1:${port}`);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /refused the user name or password/);
  assert.ok(!wrong.stderr.includes('wrongsecret'));
  oneLine(wrong.stderr);
  const none = await slice(`redis://127.0.0.1:${port}`);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /needs a password/);
  const worker = await cli(['worker', '--redis', `redis://:wrongsecret@127.0.0.1:${port}`]);
  assert.equal(worker.code, 2);
  assert.match(worker.stderr, /refused the user name or password/);
  const closed = await slice('redis://127.0.0.1:1');
  assert.equal(closed.code, 2);
  assert.match(closed.stderr, /cannot reach Redis/);
  const w = await startWorker(locked.url);
  try {
    const ok = await slice(locked.url);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readdirSync(join(dir, 'pw')).filter((f) => /^slice-\d+\.json$/.test(f)).length, 2);
  } finally {
    await w.stop();
  }
});

test('queue over TLS (rediss://): the server certificate is checked; with its authority known, jobs run', { skip: NO_REDIS }, async (t) => {
  const files = makeTlsFiles(dir);
  if (!files) return t.skip('openssl is not installed: no certificates for a TLS server');
  const tls = await startRedis({ password: PASSWORD, tls: files });
  const slice = () => cli(['slice', '--default', '--max-slices', '2', '-o', join(dir, 'tls'), '--redis', tls.url]);
  try {
    const unknownCa = await slice();
    assert.equal(unknownCa.code, 2);
    assert.match(unknownCa.stderr, /rediss:\/\/:\*\*\*@localhost:\d+: cannot reach Redis \((self-signed certificate|unable to verify)/);
    oneLine(unknownCa.stderr);
    // the children (worker, coordinator) take the test authority from the environment
    process.env.NODE_EXTRA_CA_CERTS = files.ca;
    const w = await startWorker(tls.url);
    try {
      const ok = await slice();
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(w.log(), /slice-prune .* done/);
    } finally {
      await w.stop();
    }
  } finally {
    delete process.env.NODE_EXTRA_CA_CERTS;
    await tls.stop();
  }
});

test('queue: a run is refused while a worker of another version is registered', { skip: NO_REDIS }, async () => {
  redisCli(open.port, 'SET', 'nnshrink:worker:old-1', JSON.stringify({ id: 'old-1', host: 'h', pid: 1, version: '0.0.1-old', concurrency: 1, since: 0 }), 'EX', '30');
  try {
    const r = await cli(['slice', '--default', '--max-slices', '2', '-o', join(dir, 'v'), '--redis', open.url]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /worker old-1 runs nnshrink 0\.0\.1-old, this run .*refused/);
    oneLine(r.stderr);
  } finally {
    redisCli(open.port, 'DEL', 'nnshrink:worker:old-1');
  }
});

test('queue: a worker refuses, at once and without retries, jobs of another version, of a foreign kind, with a forged key or a NaN weight', { skip: NO_REDIS }, async () => {
  const w = await startWorker(open.url);
  const queue = new Queue('jobs', { connection: { host: '127.0.0.1', port: open.port }, prefix: 'nnshrink' });
  try {
    const net = randomNetwork(3, [2, 4, 1]);
    const job = (f: unknown) => ({ f, domain: [{ lo: new Float64Array([0, 0]), hi: new Float64Array([1, 1]) }], tolerance: { kind: 'exact' }, bounds: 'crown', queryTimeoutMs: 100, finalTimeoutMs: 100, finalSamples: 10, seed: 1 });
    const bad = { ...net, layers: [{ ...net.layers[0], weights: Float64Array.from(net.layers[0].weights, (x, i) => (i === 1 ? NaN : x)) }, net.layers[1]] };
    const data = (kind: string, payload: string, v = VERSION, key?: string) => ({ v, run: 'testrun0001', kind, key: key ?? createHash('sha256').update(`${kind}\n${payload}`).digest('hex'), keep: 600, payload });
    const good = encode(job(net), false).text;
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['slice-prune', data('slice-prune', good, '9.9.9'), /nnshrink version mismatch: the job is from nnshrink 9\.9\.9/],
      ['evil', data('evil', good), /job kind 'evil' is not one of nnshrink's/],
      ['slice-prune', data('slice-prune', good, VERSION, '0'.repeat(64)), /key is not the hash/],
      ['slice-prune', data('slice-prune', encode(job(bad), false).text), /invalid job: slice job: f: layer 1 weight \[0,1\] is NaN/],
    ];
    const ids = await Promise.all(cases.map(([name, d], i) => queue.add(name, d, { jobId: `testrun0001_bad${i}`, attempts: 3 }).then((j) => j.id!)));
    for (const [i, id] of ids.entries()) {
      const j = await until(async () => {
        // read again once failed: a job read while it ran has no failedReason yet
        const x = await queue.getJob(id);
        return x && (await x.isFailed()) ? queue.getJob(id) : undefined;
      });
      assert.match(j.failedReason, cases[i][2]);
      assert.equal(j.attemptsMade, 1, 'refused without retries');
    }
    assert.equal(redisCli(open.port, 'HLEN', 'nnshrink:run:testrun0001:results').trim(), '0');
  } finally {
    await queue.close();
    await w.stop();
  }
});

test('queue: a job that fails on every attempt answers unknown, never proved', { skip: NO_REDIS }, async () => {
  const net = randomNetwork(4, [2, 6, 2]);
  writeFileSync(join(dir, 'u.json'), jsonNetworkText(net));
  writeFileSync(join(dir, 'u.vnnlib'), '(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 1))\n(assert (>= Y_0 1000))\n');
  // a worker that crashes on every job (what a machine running out of memory looks like to the queue)
  const crashing = new Worker('jobs', async () => { throw new Error('out of memory'); }, { connection: { host: '127.0.0.1', port: open.port }, prefix: 'nnshrink' });
  const runner = await QueueRunner.open({ target: parseRedisUrl(open.url), version: VERSION, attempts: 2 });
  try {
    const instance = new URL('../src/verify/property/instance.ts', import.meta.url).href;
    const [r] = await runner.run<unknown, { result: string; reason?: string }>(instance, 'decideInstance', [{ model: join(dir, 'u.json'), property: join(dir, 'u.vnnlib'), timeoutMs: 1000 }]);
    assert.equal(r.result, 'unknown');
    assert.match(r.reason!, /failed on every attempt on the workers: out of memory/);
  } finally {
    await runner.close();
    await crashing.close();
  }
});

test('queue: a coordinator killed mid-run is continued with --resume RUN_ID, and no finished job runs again', { skip: NO_REDIS }, async () => {
  const { net } = plantedNetwork(23, [3, 14, 14, 12, 2]);
  writeFileSync(join(dir, 'r.json'), jsonNetworkText(net));
  const args = ['slice', join(dir, 'r.json'), '--domain', '-1,-1,-1:1,1,1', '--max-slices', '10', '-o', join(dir, 'resumed'), '--json', '--redis', open.url];
  const w = await startWorker(open.url);
  try {
    const first = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    first.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const run = await until(async () => /queue run ([0-9a-f]{16})/.exec(err)?.[1]);
    // killed once some results are in
    await until(async () => (Number(redisCli(open.port, 'HLEN', `nnshrink:run:${run}:results`)) >= 3 ? true : undefined));
    first.kill('SIGKILL');
    const again = await cli([...args, '--resume', run]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readdirSync(join(dir, 'resumed')).filter((f) => /^slice-\d+\.json$/.test(f)).length, 10);
    // every slice job ran exactly once on the worker, across both coordinators
    const done = Array.from(w.log().matchAll(new RegExp(`slice-prune ${run}/([0-9a-f]{8}): done`, 'g')), (m) => m[1]);
    assert.equal(done.length, 10, w.log());
    assert.equal(new Set(done).size, 10);
    const local = await cli(args.slice(0, -2).map((a) => (a === join(dir, 'resumed') ? join(dir, 'local') : a)));
    assert.equal(local.code, 0, local.stderr);
    const nets = (d: string) => readdirSync(join(dir, d)).filter((f) => /^slice-\d+\.json$/.test(f)).sort().map((f) => readFileSync(join(dir, d, f), 'utf8'));
    assert.deepEqual(nets('resumed'), nets('local'));
    const bad = await cli([...args.slice(0, -2), '--redis', open.url, '--resume', 'NOT-A-RUN']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--resume: 'NOT-A-RUN' is not a run id/);
  } finally {
    await w.stop();
  }
});

async function until<T>(f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
