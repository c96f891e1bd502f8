/**
 * The one place with worker-thread parallelism. A job is plain data (structured-clonable: networks are typed
 * arrays), handled by a named export of a module, so verify, simplify and slice can hand work over without the pool
 * knowing them. Results come back in job order whatever the number of workers; one worker runs inline.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { NnsError } from '../errors.ts';

/**
 * Compiled (dist/), this file is pool.js and its worker loop is plain JavaScript; from the sources (tsx) the worker
 * needs worker-entry.js, which registers tsx in the new thread before loading worker.ts.
 */
const COMPILED = import.meta.url.endsWith('.js');
const WORKER_URL = new URL(COMPILED ? './worker.js' : './worker-entry.js', import.meta.url);

/**
 * The module a job names, as it exists where this runs: callers name their job modules by source file
 * (`new URL('./tree.ts', import.meta.url)`), which compiled is the `.js` beside it.
 */
function jobModule(url: string): string {
  return COMPILED && url.endsWith('.ts') ? `${url.slice(0, -3)}.js` : url;
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

type Handler<J, R> = (job: J, state?: unknown) => R | Promise<R>;

/**
 * Where a round of independent jobs runs: this machine's worker threads (WorkerPool) or other machines through a
 * job queue (src/queue). Either way the results come back in job order, so a caller's answer does not depend on it.
 */
export interface JobRunner {
  /** how many jobs may run at once (a progress estimate; never part of an answer) */
  readonly size: number;
  run<J, R>(sourceUrl: string, exportName: string, jobs: J[], onResult?: (index: number, result: R) => void): Promise<R[]>;
  close(): Promise<void>;
}

/**
 * Where a search's tree steps run, a batch at a time, each step given state the whole search shares (its network
 * and question): a WorkerPool's threads (the state made once on each), or a job queue's workers (queue/sessions.ts:
 * each job carries what makes the state). The trees do not depend on which, nor on how many run at once.
 */
export interface SessionPool {
  /** 1: the steps run in this thread (the caller then skips the batching) */
  readonly size: number;
  session(sourceUrl: string, makeExport: string, job: unknown): Session;
}

export interface Session {
  run<J, R>(exportName: string, jobs: J[]): Promise<R[]>;
  close(): Promise<void>;
}

/** What the worker loop is sent: a job, or a session's opening (its state made) or closing (its state dropped). */
interface JobMessage {
  id: number;
  moduleUrl: string;
  exportName: string;
  job: unknown;
  session?: string;
  op?: 'open' | 'close';
}

interface Thread {
  worker: Worker;
  ready: Promise<void>;
  exited?: boolean;
}

/** A worker thread running the worker loop; `ready` once its loop listens. */
function startThread(): Thread {
  const worker = new Worker(WORKER_URL);
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (msg: { ready?: boolean }): void => {
      if (!msg.ready) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve();
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
  // a start-up failure is reported by the first run that needs the worker
  ready.catch(() => {});
  const t: Thread = { worker, ready };
  worker.once('exit', () => (t.exited = true));
  return t;
}

/**
 * Worker threads kept for several rounds of jobs (each worker starts in a few hundred ms: TypeScript is compiled on
 * the fly), started when the pool is made, so the caller's own work meanwhile hides the start. `close` ends them.
 */
export class WorkerPool implements JobRunner, SessionPool {
  private readonly workers: Thread[] = [];
  /** runOne's bookkeeping: the threads free now, and the callers waiting for one */
  private readonly idle: number[] = [];
  private readonly waiting: Array<(w: number) => void> = [];
  private nextId = 0;

  /** threads: start worker threads even for one worker (runOne keeps the calling thread free) */
  constructor(
    readonly size: number,
    opts: { threads?: boolean } = {},
  ) {
    if (size <= 1 && !opts.threads) return;
    for (let w = 0; w < size; w++) {
      this.workers.push(startThread());
      this.idle.push(w);
    }
  }

  /**
   * One job on the first free worker thread, for jobs that arrive one at a time (the queue's worker process: its
   * own thread stays free to keep its jobs' locks). Needs a pool made with threads.
   */
  async runOne<J, R>(sourceUrl: string, exportName: string, job: J): Promise<R> {
    if (!this.workers.length) throw new Error('runOne needs a pool with worker threads');
    const w = this.idle.pop() ?? (await new Promise<number>((resolve) => this.waiting.push(resolve)));
    try {
      await this.workers[w].ready;
      return await this.one<R>(this.workers[w].worker, { id: this.nextId++, moduleUrl: jobModule(sourceUrl), exportName, job });
    } catch (e) {
      // a thread that died (out of memory) is replaced, so the next job does not wait on it for ever
      if (this.workers[w].exited) this.workers[w] = startThread();
      throw e;
    } finally {
      const next = this.waiting.shift();
      if (next) next(w);
      else this.idle.push(w);
    }
  }

  /** Runs the jobs on the pool's workers (inline with one worker or one job); results in job order. */
  async run<J, R>(sourceUrl: string, exportName: string, jobs: J[], onResult?: (index: number, result: R) => void): Promise<R[]> {
    const moduleUrl = jobModule(sourceUrl);
    if (this.size <= 1 || jobs.length <= 1) {
      const mod = (await import(moduleUrl)) as Record<string, Handler<J, R>>;
      const results = new Array<R>(jobs.length);
      for (let i = 0; i < jobs.length; i++) {
        results[i] = await mod[exportName](jobs[i]);
        onResult?.(i, results[i]);
      }
      return results;
    }
    return this.dispatch(moduleUrl, exportName, jobs, undefined, onResult);
  }

  /**
   * State made once on every worker by the named export from `job` (a search's network and question), which the
   * session's jobs then get as their handler's second argument; with one worker the state is made here and the
   * jobs run inline. Its making starts now, while the caller goes on.
   */
  session(moduleUrl: string, makeExport: string, job: unknown): WorkerSession {
    return new WorkerSession(this, moduleUrl, makeExport, job);
  }

  /** @internal the session's side of the pool: its state made or dropped on every worker */
  async onEach(msg: Omit<JobMessage, 'id'>): Promise<void> {
    await Promise.all(
      this.workers.map(async ({ worker, ready }) => {
        await ready;
        await this.one(worker, { ...msg, id: -1 });
      }),
    );
  }

  /** @internal the jobs, one message each, on the workers (whatever their number); results in job order */
  async dispatch<J, R>(moduleUrl: string, exportName: string, jobs: J[], session?: string, onResult?: (index: number, result: R) => void): Promise<R[]> {
    const results = new Array<R>(jobs.length);
    let next = 0;
    let failed: Error | null = null;
    await Promise.all(
      this.workers.slice(0, Math.min(this.size, jobs.length)).map(async ({ worker, ready }) => {
        try {
          await ready;
        } catch (e) {
          failed ??= new Error(`worker failed to start: ${(e as Error).message}`);
          return;
        }
        while (!failed && next < jobs.length) {
          const id = next++;
          try {
            results[id] = await this.one<R>(worker, { id, moduleUrl, exportName, job: jobs[id], ...(session ? { session } : {}) });
            onResult?.(id, results[id]);
          } catch (e) {
            failed ??= e as Error;
          }
        }
      }),
    );
    if (failed) throw failed;
    return results;
  }

  /** One job on one worker: its result, or its error (a user error keeps its one-line message). */
  private one<R>(worker: Worker, msg: JobMessage): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const onMessage = (m: { id?: number; result?: R; error?: string; user?: boolean }): void => {
        if (m.id !== msg.id) return;
        cleanup();
        if (m.error !== undefined) reject(m.user ? new NnsError(m.error) : new Error(`job ${m.id}: ${m.error}`));
        else resolve(m.result as R);
      };
      const onError = (e: Error): void => {
        cleanup();
        reject(new Error(`worker failed during job ${msg.id}: ${e.message}`));
      };
      // a thread that ends without an error (or has ended) would otherwise leave the job waiting for ever
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`worker thread exited (${code}) during job ${msg.id}`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      if (worker.threadId < 0) return onExit(-1);
      worker.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
  }
}

/** See WorkerPool.session. */
export class WorkerSession implements Session {
  private static count = 0;
  private readonly id = `${process.pid}-${WorkerSession.count++}`;
  /** made on the workers (or, with one worker, here: the state itself) */
  private readonly made: Promise<unknown>;
  private readonly moduleUrl: string;

  constructor(
    private readonly pool: WorkerPool,
    sourceUrl: string,
    makeExport: string,
    job: unknown,
  ) {
    this.moduleUrl = jobModule(sourceUrl);
    this.made =
      pool.size <= 1
        ? import(this.moduleUrl).then((mod: Record<string, Handler<unknown, unknown>>) => mod[makeExport](job))
        : pool.onEach({ moduleUrl: this.moduleUrl, exportName: makeExport, job, session: this.id, op: 'open' });
    // awaited by the first run; a session closed before any run never looks
    this.made.catch(() => {});
  }

  /** The jobs with the named export, each given the session's state; results in job order. */
  async run<J, R>(exportName: string, jobs: J[]): Promise<R[]> {
    const state = await this.made;
    if (this.pool.size > 1) return this.pool.dispatch<J, R>(this.moduleUrl, exportName, jobs, this.id);
    const mod = (await import(this.moduleUrl)) as Record<string, Handler<J, R>>;
    const results: R[] = [];
    for (const job of jobs) results.push(await mod[exportName](job, state));
    return results;
  }

  /** Drops the state on the workers. */
  async close(): Promise<void> {
    if (this.pool.size <= 1) return;
    await this.made.then(() => this.pool.onEach({ moduleUrl: this.moduleUrl, exportName: '', job: null, session: this.id, op: 'close' })).catch(() => {});
  }
}

/** `run` on a pool of `size` workers of its own, ended afterwards however `run` ends. */
export async function withPool<R>(size: number, run: (pool: WorkerPool) => Promise<R>): Promise<R> {
  const pool = new WorkerPool(size);
  try {
    return await run(pool);
  } finally {
    await pool.close();
  }
}

/** One round of jobs on a pool of its own, or on the runner given (which stays open: its owner closes it). */
export async function runPool<J, R>(
  moduleUrl: string,
  exportName: string,
  jobs: J[],
  workers: number | JobRunner,
  onResult?: (index: number, result: R) => void,
): Promise<R[]> {
  if (typeof workers !== 'number') return workers.run(moduleUrl, exportName, jobs, onResult);
  return withPool(workers <= 1 || jobs.length <= 1 ? 1 : Math.min(workers, jobs.length), (pool) => pool.run(moduleUrl, exportName, jobs, onResult));
}
