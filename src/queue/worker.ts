/**
 * A queue worker: takes nnshrink's jobs from Redis and runs them on worker threads of its own (its main thread stays
 * free to renew its jobs' locks, so a long job is not taken for a dead one). Each job is checked first: this
 * version's, a kind of nnshrink's own, its key the hash of its text, its blobs their hashes, its contents valid for
 * its kind; a job refused so fails at once (no retries). A result is stored under the run's id and the job's key
 * before the job completes: a worker killed in between leaves a result that the retry overwrites with an equal one.
 */
import { createHash } from 'node:crypto';
import { Worker as BullWorker, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { NnsError } from '../errors.ts';
import { WorkerPool } from '../pool/pool.ts';
import { connectionOptions, type RedisTarget } from './url.ts';
import { blobKey, connect, heartbeat, newWorkerInfo, PREFIX, QUEUE, resultsKey, type WorkerInfo } from './redis.ts';
import { blobNames, checkedBlob, decode, encode } from './wire.ts';
import { kindNamed, type JobKind } from './kinds.ts';
import { INVALID_JOB, VERSION_REFUSED } from './round.ts';
import { RUN_ID } from './coordinator.ts';

export interface WorkerOptions {
  target: RedisTarget;
  version: string;
  /** jobs at once, each on a thread of its own */
  concurrency: number;
  /** a killed worker's job goes back to the queue after about this long (BullMQ's lock and stalled check) */
  stalledMs?: number;
  /** where files that come with jobs are kept */
  cacheDir: string;
  log?: (line: string) => void;
}

export interface RunningWorker {
  info: WorkerInfo;
  /** stops taking jobs, lets the running ones finish, unregisters */
  stop(): Promise<void>;
}

const BLOB_CACHE_BYTES = 256 * 2 ** 20;

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const redis = await connect(opts.target);
  const info = newWorkerInfo(opts.version, opts.concurrency);
  const pool = new WorkerPool(opts.concurrency, { threads: true });
  const blobs = new BlobCache(redis);
  const stalledMs = opts.stalledMs ?? 30_000;
  const worker = new BullWorker(QUEUE, (job: Job) => runJob(job, { opts, pool, blobs, redis, info }), {
    connection: connectionOptions(opts.target),
    prefix: PREFIX,
    concurrency: opts.concurrency,
    lockDuration: stalledMs,
    stalledInterval: stalledMs,
    maxStalledCount: 3,
  });
  worker.on('error', (e) => opts.log?.(`redis: ${e.message.split('\n')[0]}`));
  worker.on('failed', (job, e) => opts.log?.(`job ${job?.name} ${job?.id?.slice(0, 28)}: failed: ${e.message.split('\n')[0].slice(0, 200)}`));
  await worker.waitUntilReady();
  const stopBeat = heartbeat(redis, info);
  return {
    info,
    async stop() {
      await worker.close();
      await stopBeat();
      await pool.close();
      redis.disconnect();
    },
  };
}

/** One job: refused (UnrecoverableError: no retry) unless it is what it claims to be; run; its result stored. */
interface Ctx {
  opts: WorkerOptions;
  pool: WorkerPool;
  blobs: BlobCache;
  redis: Redis;
  info: WorkerInfo;
}

async function runJob(job: Job, { opts, pool, blobs, redis, info }: Ctx): Promise<string> {
  const t0 = Date.now();
  const d = (job.data ?? {}) as Record<string, unknown>;
  if (d.v !== opts.version) throw new UnrecoverableError(`${VERSION_REFUSED}: the job is from nnshrink ${String(d.v).slice(0, 20)}, worker ${info.id} runs ${opts.version}`);
  const kind: JobKind | undefined = typeof d.kind === 'string' ? kindNamed(d.kind) : undefined;
  if (!kind || job.name !== kind.name) throw new UnrecoverableError(`job kind '${String(d.kind).slice(0, 40)}' is not one of nnshrink's`);
  const { run, key, payload, keep } = d;
  if (typeof run !== 'string' || !RUN_ID.test(run)) throw new UnrecoverableError('job: bad run id');
  if (typeof payload !== 'string' || typeof key !== 'string' || createHash('sha256').update(`${kind.name}\n${payload}`).digest('hex') !== key) throw new UnrecoverableError('job: its key is not the hash of its text');
  if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 60 || keep > 366 * 86_400) throw new UnrecoverableError('job: bad expiry');
  let input: unknown;
  try {
    input = kind.accept(decode(payload, await blobs.get(blobNames(payload))), opts.cacheDir);
  } catch (e) {
    if (e instanceof NnsError) throw new UnrecoverableError(`${INVALID_JOB}: ${e.message}`);
    throw e;
  }
  opts.log?.(`job ${kind.name} ${run}/${key.slice(0, 8)}: started`);
  let result: unknown;
  try {
    result = await pool.runOne(kind.module, kind.exportName, input);
  } catch (e) {
    // a bad input is refused the same way on every attempt
    if (e instanceof NnsError) throw new UnrecoverableError(e.message);
    throw e;
  }
  const results = resultsKey(run);
  await redis.multi().hset(results, key, encode(result, false).text).expire(results, keep).exec();
  opts.log?.(`job ${kind.name} ${run}/${key.slice(0, 8)}: done in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
  return 'stored';
}

/** Blobs fetched once and kept by hash (least recently used out first), each checked against its hash. */
class BlobCache {
  private readonly cache = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly redis: Redis) {}

  async get(names: string[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    const missing = names.filter((n) => {
      const b = this.cache.get(n);
      if (!b) return true;
      this.cache.delete(n);
      this.cache.set(n, b);
      out.set(n, b);
      return false;
    });
    if (missing.length) {
      const got = await this.redis.mgetBuffer(...missing.map(blobKey));
      missing.forEach((n, i) => {
        const b = checkedBlob(n, got[i]);
        out.set(n, b);
        this.put(n, b);
      });
    }
    return out;
  }

  private put(n: string, b: Buffer): void {
    this.cache.set(n, b);
    this.bytes += b.length;
    for (const [k, v] of this.cache) {
      if (this.bytes <= BLOB_CACHE_BYTES) break;
      this.cache.delete(k);
      this.bytes -= v.length;
    }
  }
}
