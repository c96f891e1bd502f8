import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool, runPool } from '../src/pool/pool.ts';
import { NnsError } from '../src/errors.ts';

const JOBS = new URL('./helpers/pool-jobs.ts', import.meta.url).href;

test('pool: results in job order with any number of workers, on worker threads when there are several', async () => {
  const xs = Array.from({ length: 12 }, (_, i) => i);
  const inline = await runPool<number, { value: number; thread: number }>(JOBS, 'square', xs, 1);
  const three = await runPool<number, { value: number; thread: number }>(JOBS, 'square', xs, 3);
  assert.deepEqual(inline.map((r) => r.value), xs.map((x) => x * x));
  assert.deepEqual(three.map((r) => r.value), xs.map((x) => x * x));
  assert.ok(inline.every((r) => r.thread === 0));
  // (how the jobs spread over the workers depends on when each starts: only that they ran off the main thread)
  assert.ok(three.every((r) => r.thread !== 0));
});

test('pool: one pool serves several rounds and modules; a user error in a worker comes back as itself', async () => {
  const pool = new WorkerPool(2);
  try {
    const seen: number[] = [];
    const a = await pool.run<number, { value: number }>(JOBS, 'square', [3, 4, 5], (i) => seen.push(i));
    assert.deepEqual(a.map((r) => r.value), [9, 16, 25]);
    assert.deepEqual(seen.sort(), [0, 1, 2]);
    assert.deepEqual(await pool.run<number, string>(JOBS, 'later', [7, 8, 9]), ['#7', '#8', '#9']);
    await assert.rejects(pool.run(JOBS, 'square', [1, -2, 3]), (e: Error) => e instanceof NnsError && /-2 is negative/.test(e.message));
    // still usable after a failed round
    assert.deepEqual((await pool.run<number, { value: number }>(JOBS, 'square', [6, 7])).map((r) => r.value), [36, 49]);
  } finally {
    await pool.close();
  }
});

test('pool sessions: state made once per worker, handed to every job (one job too), on one or two workers', async () => {
  for (const workers of [1, 2]) {
    const pool = new WorkerPool(workers);
    try {
      const session = pool.session(JOBS, 'makeBase', { base: 10 });
      const all = await session.run<number, { value: number; thread: number }>('addBase', [1, 2, 3]);
      assert.deepEqual(all.map((r) => r.value), [11, 12, 13]);
      const one = await session.run<number, { value: number; thread: number }>('addBase', [5]);
      assert.equal(one[0].value, 15);
      // with workers, even a single job runs where the state is
      assert.ok(workers === 1 ? one[0].thread === 0 : one[0].thread !== 0);
      await session.close();
      if (workers > 1) await assert.rejects(session.run('addBase', [1]), /no session/);
    } finally {
      await pool.close();
    }
  }
});
