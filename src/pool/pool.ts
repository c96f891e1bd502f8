/**
 * The one place with worker-thread parallelism. A job is plain data (structured-clonable: networks are typed
 * arrays), handled by a named export of a module, so verify, simplify and slice can hand work over without the pool
 * knowing them. Results come back in job order whatever the number of workers; one worker runs inline.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { NnsError } from '../errors.ts';

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

type Handler<J, R> = (job: J) => R | Promise<R>;

/**
 * Worker threads kept for several rounds of jobs (each worker starts in a few hundred ms: TypeScript is compiled on
 * the fly), started when the pool is made, so the caller's own work meanwhile hides the start. `close` ends them.
 */
export class WorkerPool {
  private readonly workers: Array<{ worker: Worker; ready: Promise<void> }> = [];

  constructor(readonly size: number) {
    if (size <= 1) return;
    for (let w = 0; w < size; w++) {
      const worker = new Worker(new URL('./worker-entry.js', import.meta.url));
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
      this.workers.push({ worker, ready });
    }
  }

  /** Runs the jobs on the pool's workers (inline with one worker or one job); results in job order. */
  async run<J, R>(moduleUrl: string, exportName: string, jobs: J[], onResult?: (index: number, result: R) => void): Promise<R[]> {
    const results = new Array<R>(jobs.length);
    if (this.size <= 1 || jobs.length <= 1) {
      const mod = (await import(moduleUrl)) as Record<string, Handler<J, R>>;
      for (let i = 0; i < jobs.length; i++) {
        results[i] = await mod[exportName](jobs[i]);
        onResult?.(i, results[i]);
      }
      return results;
    }
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
            results[id] = await this.one<R>(worker, { id, moduleUrl, exportName, job: jobs[id] });
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

  /**
   * The same job on every worker (inline with one worker), as setting up state that later jobs name: its results,
   * one per worker.
   */
  async runOnEach<J, R>(moduleUrl: string, exportName: string, job: J): Promise<R[]> {
    if (this.size <= 1) {
      const mod = (await import(moduleUrl)) as Record<string, Handler<J, R>>;
      return [await mod[exportName](job)];
    }
    return Promise.all(
      this.workers.map(async ({ worker, ready }) => {
        await ready;
        return this.one<R>(worker, { id: -1, moduleUrl, exportName, job });
      }),
    );
  }

  /** One job on one worker: its result, or its error (a user error keeps its one-line message). */
  private one<R>(worker: Worker, msg: { id: number; moduleUrl: string; exportName: string; job: unknown }): Promise<R> {
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
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
  }
}

/** One round of jobs on a pool of its own. */
export async function runPool<J, R>(
  moduleUrl: string,
  exportName: string,
  jobs: J[],
  workers: number,
  onResult?: (index: number, result: R) => void,
): Promise<R[]> {
  const pool = new WorkerPool(workers <= 1 || jobs.length <= 1 ? 1 : Math.min(workers, jobs.length));
  try {
    return await pool.run(moduleUrl, exportName, jobs, onResult);
  } finally {
    await pool.close();
  }
}
