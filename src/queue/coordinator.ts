/**
 * The coordinator's runner: the pool's interface (JobRunner) over a BullMQ queue on Redis, so slicing, the census and
 * instance lists run on any number of worker processes on any machines with their logic unchanged and their results
 * in job order. A job's key is the SHA-256 of its kind and wire text; its result is kept under the run's id by that
 * key (with an expiry), so a duplicate result overwrites an equal one, and `--resume RUN_ID` takes the results a run
 * already has and queues only the rest. A job that failed on every attempt answers its kind's open result
 * (unknown), never a proof.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { fail, NnsError } from '../errors.ts';
import type { JobRunner } from '../pool/pool.ts';
import { connectionOptions, type RedisTarget } from './url.ts';
import { blobKey, checkVersions, connect, liveWorkers, PREFIX, QUEUE, resultsKey } from './redis.ts';
import { decode, encode } from './wire.ts';
import { kindOf, type JobKind } from './kinds.ts';
import { Round, type QueueStatus } from './round.ts';

export type { QueueStatus } from './round.ts';

export interface QueueRunnerOptions {
  target: RedisTarget;
  /** nnshrink's version: every job carries it, and workers of another are refused */
  version: string;
  /** take this run's results so far (--resume RUN_ID) */
  resume?: string;
  /** attempts per job before it answers unknown (default 3) */
  attempts?: number;
  /** how long the run's results and blobs stay in Redis (default 7 days) */
  keepSeconds?: number;
  /** the queue's state, on every change */
  onStatus?: (s: QueueStatus) => void;
}

export const RUN_ID = /^[a-z0-9]{8,40}$/;

export class QueueRunner implements JobRunner {
  readonly run_id: string;
  /** a progress estimate: the workers registered when the runner opened */
  size = 1;
  private readonly sentBlobs = new Set<string>();
  private rounds = 0;

  private constructor(
    readonly opts: QueueRunnerOptions,
    private readonly redis: Redis,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {
    this.run_id = opts.resume ?? randomBytes(8).toString('hex');
  }

  /** Connects (a bad URL, host or password fails here in one line), checks the workers' versions. */
  static async open(opts: QueueRunnerOptions): Promise<QueueRunner> {
    if (opts.resume !== undefined && !RUN_ID.test(opts.resume)) fail(`--resume: '${opts.resume.slice(0, 40)}' is not a run id (8 to 40 lower-case letters and digits, as the first run printed)`);
    const redis = await connect(opts.target);
    const workers = await liveWorkers(redis);
    try {
      checkVersions(workers, opts.version);
    } catch (e) {
      redis.disconnect();
      throw e;
    }
    const connection = connectionOptions(opts.target);
    const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
    const events = new QueueEvents(QUEUE, { connection, prefix: PREFIX });
    queue.on('error', () => {});
    events.on('error', () => {});
    await events.waitUntilReady();
    const runner = new QueueRunner(opts, redis, queue, events);
    runner.size = Math.max(1, workers.reduce((s, w) => s + (w.concurrency || 1), 0));
    return runner;
  }

  async run<J, R>(sourceUrl: string, exportName: string, jobs: J[], onResult?: (index: number, result: R) => void): Promise<R[]> {
    const kind = kindOf(sourceUrl, exportName);
    if (!kind) throw new Error(`the job queue runs no job ${exportName} of ${sourceUrl.split('/').slice(-2).join('/')}`);
    if (!jobs.length) return [];
    const wires = jobs.map((j) => encode(kind.toWire ? kind.toWire(j as never) : j, true));
    const keys = wires.map((w) => createHash('sha256').update(`${kind.name}\n${w.text}`).digest('hex'));
    const round = new Round<R>(this, kind, jobs as unknown[], keys, this.rounds++, onResult);
    await this.sendBlobs(wires.flatMap((w) => [...w.blobs]));
    return round.run(wires.map((w) => w.text));
  }

  /** @internal the blobs not sent yet, each stored once (NX) with the run's expiry */
  private async sendBlobs(blobs: Array<[string, Buffer]>): Promise<void> {
    const p = this.redis.pipeline();
    for (const [h, bytes] of blobs) {
      if (this.sentBlobs.has(h)) continue;
      this.sentBlobs.add(h);
      p.set(blobKey(h), bytes, 'EX', this.keepSeconds, 'NX');
      // an existing blob lives as long as this run needs it
      p.expire(blobKey(h), this.keepSeconds);
    }
    if (p.length) await p.exec();
  }

  get keepSeconds(): number {
    return this.opts.keepSeconds ?? 7 * 86_400;
  }

  /** @internal for Round */
  get parts(): { redis: Redis; queue: Queue; events: QueueEvents; results: string; jobId: (key: string) => string } {
    return { redis: this.redis, queue: this.queue, events: this.events, results: resultsKey(this.run_id), jobId: (key) => `${this.run_id}_${key}` };
  }

  /** @internal a result text as the coordinator takes it */
  decodeResult<R>(kind: JobKind, text: string): R {
    try {
      return decode(text, new Map(), `${kind.name} result`) as R;
    } catch (e) {
      if (e instanceof NnsError) throw new Error(`a worker sent a malformed result: ${e.message}`);
      throw e;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
  }
}
