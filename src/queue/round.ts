/**
 * One round of jobs on the queue (one JobRunner.run): the results the run already has are taken, the rest queued
 * under ids made of the run's id and the job's key (queueing a job that is there already does nothing), and the
 * round ends when every key has its result. The queue's events say when to look; a poll every second looks anyway
 * (an event can be missed while a connection is down), re-queues a job that vanished without a result, and checks
 * the workers' versions.
 */
import { fail, NnsError } from '../errors.ts';
import type { JobKind } from './kinds.ts';
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkVersions, liveWorkers } from './redis.ts';

export interface QueueStatus {
  run: string;
  done: number;
  total: number;
  running: number;
  waiting: number;
  workers: number;
}

/** how a worker starts its refusal of a job of another version (the run is refused: exit 2) */
export const VERSION_REFUSED = 'nnshrink version mismatch';
/** how a worker starts its refusal of a job that is not valid for its kind: a coordinator's bug, never "unknown" */
export const INVALID_JOB = 'invalid job';

const POLL_MS = 1000;
/** every this many polls, the state of each job still open is looked at */
const STATE_EVERY = 5;
const CHUNK = 500;
/** at most this many job states looked at per look */
const STATE_BATCH = 200;

/** What a round takes from its coordinator (coordinator.ts's QueueRunner is one), so the two import one way. */
export interface RoundHost {
  readonly run_id: string;
  readonly opts: { resume?: string; attempts?: number; version: string; onStatus?: (s: QueueStatus) => void };
  readonly keepSeconds: number;
  readonly parts: { redis: Redis; queue: Queue; events: QueueEvents; results: string; jobId: (key: string) => string };
  decodeResult<R>(kind: JobKind, text: string): R;
}

export class Round<R> {
  private readonly results: R[];
  private readonly pending = new Map<string, number[]>();
  private readonly running = new Set<string>();
  private done = 0;
  private workers = 0;
  private finish!: { resolve: () => void; reject: (e: Error) => void };
  private texts: string[] = [];
  private stateCursor = 0;

  constructor(
    private readonly runner: RoundHost,
    private readonly kind: JobKind,
    private readonly jobs: unknown[],
    keys: string[],
    private readonly index: number,
    private readonly onResult?: (index: number, result: R) => void,
  ) {
    this.results = new Array<R>(jobs.length);
    keys.forEach((k, i) => this.pending.set(k, [...(this.pending.get(k) ?? []), i]));
  }

  async run(texts: string[]): Promise<R[]> {
    this.texts = texts;
    await this.collect([...this.pending.keys()]);
    if (!this.pending.size) return this.results;
    const { events, queue } = this.runner.parts;
    const ours = (jobId: string): string | undefined => {
      const key = jobId.slice(this.runner.run_id.length + 1);
      return jobId.startsWith(`${this.runner.run_id}_`) && this.pending.has(key) ? key : undefined;
    };
    const onCompleted = ({ jobId }: { jobId: string }): void => void this.wrap(async () => { const k = ours(jobId); if (k) await this.collect([k]); });
    const onFailed = ({ jobId, failedReason }: { jobId: string; failedReason: string }): void => { const k = ours(jobId); if (k) this.failed(k, failedReason); };
    const onActive = ({ jobId }: { jobId: string }): void => { const k = ours(jobId); if (k) { this.running.add(k); this.status(); } };
    const onStalled = ({ jobId }: { jobId: string }): void => { const k = ours(jobId); if (k) { this.running.delete(k); this.status(); } };
    const finished = new Promise<void>((resolve, reject) => (this.finish = { resolve, reject }));
    // awaited below; a rejection before that is not an unhandled one
    finished.catch(() => {});
    events.on('completed', onCompleted);
    events.on('failed', onFailed);
    events.on('active', onActive);
    events.on('stalled', onStalled);
    let polls = 0;
    const timer = setInterval(() => void this.wrap(() => this.poll(++polls % STATE_EVERY === 0)), POLL_MS);
    try {
      await this.wrap(async () => {
        if (this.runner.opts.resume) await this.dropFailed([...this.pending.keys()]);
        await this.add([...this.pending.keys()]);
        await this.poll(false);
      });
      await finished;
      return this.results;
    } catch (e) {
      // what is still waiting goes (a job a worker holds cannot be removed: its result is harmless)
      await Promise.allSettled([...this.pending.keys()].map((k) => queue.remove(this.runner.parts.jobId(k))));
      throw e;
    } finally {
      clearInterval(timer);
      events.off('completed', onCompleted);
      events.off('failed', onFailed);
      events.off('active', onActive);
      events.off('stalled', onStalled);
    }
  }

  /** errors end the round (the caller's promise), never escape a timer or an event */
  private async wrap(f: () => Promise<void>): Promise<void> {
    try {
      await f();
    } catch (e) {
      this.finish?.reject(e as Error);
    }
  }

  private async add(keys: string[]): Promise<void> {
    const { queue, jobId } = this.runner.parts;
    const { attempts = 3, version } = this.runner.opts;
    for (let s = 0; s < keys.length; s += CHUNK) {
      await queue.addBulk(keys.slice(s, s + CHUNK).map((key) => ({
        name: this.kind.name,
        data: { v: version, run: this.runner.run_id, kind: this.kind.name, key, round: this.index, keep: this.runner.keepSeconds, payload: this.texts[this.pending.get(key)![0]] },
        opts: { jobId: jobId(key), attempts, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: true, removeOnFail: { age: this.runner.keepSeconds } },
      })));
    }
    this.status();
  }

  /** resuming: a job that failed in the earlier run is tried again (queueing its id alone would do nothing) */
  private async dropFailed(keys: string[]): Promise<void> {
    const { queue, jobId } = this.runner.parts;
    for (const k of keys) if ((await queue.getJobState(jobId(k))) === 'failed') await queue.remove(jobId(k));
  }

  /** The results stored for these keys, taken. */
  private async collect(keys: string[]): Promise<void> {
    const { redis, results } = this.runner.parts;
    for (let s = 0; s < keys.length; s += CHUNK) {
      const part = keys.slice(s, s + CHUNK);
      const texts = await redis.hmget(results, ...part);
      texts.forEach((t, i) => t !== null && this.settle(part[i], this.runner.decodeResult<R>(this.kind, t)));
    }
  }

  private async poll(states: boolean): Promise<void> {
    const { redis, queue, jobId } = this.runner.parts;
    const workers = await liveWorkers(redis);
    checkVersions(workers, this.runner.opts.version);
    this.workers = workers.length;
    await this.collect([...this.pending.keys()]);
    if (states) {
      // a share of the open jobs at a time (a run of thousands would otherwise ask for thousands of states each time)
      const open = [...this.pending.keys()];
      const from = this.stateCursor % Math.max(1, open.length);
      this.stateCursor = from + STATE_BATCH;
      for (const k of open.slice(from, from + STATE_BATCH)) {
        const state = await queue.getJobState(jobId(k));
        if (state === 'failed') this.failed(k, (await queue.getJob(jobId(k)))?.failedReason ?? 'failed');
        else if (state === 'unknown' && this.pending.has(k)) {
          await this.collect([k]);
          if (this.pending.has(k)) await this.add([k]);
        }
      }
    }
    this.status();
  }

  private settle(key: string, result: R): void {
    const at = this.pending.get(key);
    if (!at) return;
    this.pending.delete(key);
    this.running.delete(key);
    for (const i of at) {
      this.results[i] = result;
      this.done++;
      this.onResult?.(i, result);
    }
    this.status();
    if (!this.pending.size) this.finish?.resolve();
  }

  /** A job that failed on every attempt: its kind's open answer, or the run's end (a refused version: exit 2). */
  private failed(key: string, reason: string): void {
    const at = this.pending.get(key);
    if (!at) return;
    const why = String(reason).split('\n')[0].slice(0, 160);
    try {
      if (why.startsWith(VERSION_REFUSED)) fail(`--redis: a worker refused the run: ${why}`);
      if (why.startsWith(INVALID_JOB)) throw new Error(`a worker refused ${this.kind.name} job ${at[0]}: ${why}`);
      if (!this.kind.failed) throw new NnsError(`${this.kind.name} job ${at[0]}: failed on every attempt on the workers: ${why}`, { code: 'not-proved' });
      this.settle(key, this.kind.failed(this.jobs[at[0]] as never, why) as R);
    } catch (e) {
      this.finish?.reject(e as Error);
    }
  }

  private status(): void {
    const running = Math.min(this.running.size, this.pending.size);
    this.runner.opts.onStatus?.({ run: this.runner.run_id, done: this.done, total: this.jobs.length, running, waiting: this.pending.size - running, workers: this.workers });
  }
}
