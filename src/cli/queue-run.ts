/**
 * Where a command's independent jobs run: this machine's threads (--jobs N), or with --redis URL the job queue's
 * workers on any machines (docs/distributed.md). The queue is imported only when asked for: a command without
 * --redis loads no Redis client.
 */
import type { JobRunner } from '../pool/pool.ts';
import { NnsError } from '../errors.ts';
import { ExitError, EXIT, jobsOpt } from './common.ts';
import { VERSION } from '../version.ts';

const NO_WORKER_NOTE_MS = 10_000;

export interface RunnerChoice {
  /** what the command hands its slicer or census: a thread count, or the queue */
  workers: number | JobRunner;
  /** how many jobs run at once (for time estimates) */
  size: number;
  /** the queue's state for a progress line ('' without a queue) */
  status: () => string;
}

export async function withRunner<R>(values: Record<string, unknown>, run: (c: RunnerChoice) => Promise<R>, onStatus?: () => void): Promise<R> {
  if (values.redis === undefined) {
    const n = jobsOpt(values);
    return run({ workers: n, size: n, status: () => '' });
  }
  const [{ parseRedisUrl }, { QueueRunner }] = await Promise.all([import('../queue/url.ts'), import('../queue/coordinator.ts')]);
  const target = parseRedisUrl(String(values.redis));
  let text = '';
  // a run with jobs waiting and no worker registered waits for one: say so once (with --json there is no progress)
  let idleSince = 0;
  let noted = false;
  const runner = await QueueRunner.open({
    target,
    version: VERSION,
    ...(typeof values.resume === 'string' ? { resume: values.resume } : {}),
    onStatus: (s) => {
      text = `queue ${s.run}: ${s.running} running, ${s.waiting} waiting, ${s.workers} worker${s.workers === 1 ? '' : 's'}`;
      idleSince = s.workers > 0 || s.waiting === 0 ? 0 : idleSince || Date.now();
      if (!noted && idleSince && Date.now() - idleSince > NO_WORKER_NOTE_MS) {
        noted = true;
        process.stderr.write(`\nnnshrink: note: ${s.waiting} jobs wait and no worker is registered on ${target.shown}; start one: nnshrink worker --redis URL\n`);
      }
      onStatus?.();
    },
  });
  // the id first: a coordinator killed from here on is continued with it
  process.stderr.write(`nnshrink: queue run ${runner.run_id} on ${target.shown} (continue it after a stop: --resume ${runner.run_id})\n`);
  try {
    return await run({ workers: runner, size: runner.size, status: () => text });
  } catch (e) {
    // a job that failed on every attempt and has no open answer of its kind: not proved (3), nothing written
    if (e instanceof NnsError && e.code === 'not-proved' && !(e instanceof ExitError)) throw new ExitError(e.message, EXIT.unknown);
    throw e;
  } finally {
    await runner.close();
  }
}
