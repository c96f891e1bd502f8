/**
 * The Redis side shared by coordinator and worker: one connection checked before use (so a wrong password or host is
 * one line, exit 2, not a client retrying for ever), the keys nnshrink keeps, and the workers' registrations.
 */
import { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { fail } from '../errors.ts';
import { connectionOptions, type RedisTarget } from './url.ts';

/** BullMQ's key prefix and nnshrink's own keys beside its queue */
export const PREFIX = 'nnshrink';
export const QUEUE = 'jobs';
export const resultsKey = (run: string): string => `${PREFIX}:run:${run}:results`;
export const blobKey = (hash: string): string => `${PREFIX}:blob:${hash}`;
const workerKey = (id: string): string => `${PREFIX}:worker:${id}`;

/** how long a worker's registration lives without a heartbeat (it beats every third of it) */
export const WORKER_TTL_S = 15;

/** A connection that answered PING, or a one-line error saying why not. */
export async function connect(t: RedisTarget, where = '--redis'): Promise<Redis> {
  const r = new Redis({ ...connectionOptions(t), lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 10_000 });
  // the first error says why (a refused AUTH comes as an event; connect then only says the connection closed)
  let first: Error | undefined;
  r.on('error', (e: Error) => (first ??= e));
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    r.disconnect();
    const m = (first ?? (e as Error)).message ?? String(e);
    if (/WRONGPASS|invalid password|invalid username-password/i.test(m)) fail(`${where} ${t.shown}: the server refused the user name or password`);
    if (/NOAUTH/i.test(m)) fail(`${where} ${t.shown}: the server needs a password (redis://:PASSWORD@host:port)`);
    fail(`${where} ${t.shown}: cannot reach Redis (${m.split('\n')[0].slice(0, 120)})`);
  }
  // from here on a lost connection is retried (a worker outlives a Redis restart)
  r.options.retryStrategy = (n: number) => Math.min(2000, 100 * n);
  r.options.maxRetriesPerRequest = null;
  return r;
}

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  version: string;
  concurrency: number;
  since: number;
}

export const newWorkerInfo = (version: string, concurrency: number): WorkerInfo => ({
  id: `${hostname()}-${process.pid}-${Date.now().toString(36)}`,
  host: hostname(),
  pid: process.pid,
  version,
  concurrency,
  since: Date.now(),
});

/** Registers the worker now and every third of WORKER_TTL_S; the returned function stops (and unregisters). */
export function heartbeat(r: Redis, info: WorkerInfo): () => Promise<void> {
  const beat = (): Promise<unknown> => r.set(workerKey(info.id), JSON.stringify(info), 'EX', WORKER_TTL_S).catch(() => {});
  void beat();
  const timer = setInterval(beat, (WORKER_TTL_S * 1000) / 3);
  return async () => {
    clearInterval(timer);
    await r.del(workerKey(info.id)).catch(() => {});
  };
}

/** The workers registered now (each with a heartbeat younger than WORKER_TTL_S). */
export async function liveWorkers(r: Redis): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await r.scan(cursor, 'MATCH', `${PREFIX}:worker:*`, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0' && keys.length < 100_000);
  if (!keys.length) return [];
  const values = await r.mget(keys);
  return values.flatMap((v) => {
    try {
      const w = v ? (JSON.parse(v) as WorkerInfo) : undefined;
      return w && typeof w.version === 'string' ? [w] : [];
    } catch {
      return [];
    }
  });
}

/** Refuses a run while a worker of another nnshrink version listens on the queue (it would refuse every job). */
export function checkVersions(workers: WorkerInfo[], version: string, where = '--redis'): void {
  const other = workers.find((w) => w.version !== version);
  if (other) fail(`${where}: worker ${String(other.id).slice(0, 60)} runs nnshrink ${String(other.version).slice(0, 20)}, this run ${version}: refused (run workers of the same version)`);
}
