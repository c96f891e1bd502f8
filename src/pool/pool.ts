/**
 * The one place with worker-thread parallelism. A job is plain data (structured-clonable: networks are typed
 * arrays), handled by a named export of a module, so verify, simplify and slice can hand work over without the pool
 * knowing them. Results come back in job order whatever the number of workers; workers = 1 runs inline.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { NnsError } from '../errors.ts';

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

export async function runPool<J, R>(
  moduleUrl: string,
  exportName: string,
  jobs: J[],
  workers: number,
  onResult?: (index: number, result: R) => void,
): Promise<R[]> {
  const results = new Array<R>(jobs.length);
  if (workers <= 1 || jobs.length <= 1) {
    const mod = (await import(moduleUrl)) as Record<string, (job: J) => R | Promise<R>>;
    for (let i = 0; i < jobs.length; i++) {
      results[i] = await mod[exportName](jobs[i]);
      onResult?.(i, results[i]);
    }
    return results;
  }
  const count = Math.min(workers, jobs.length);
  let next = 0;
  let failed: Error | null = null;
  const pool: Worker[] = [];
  await new Promise<void>((resolve) => {
    let running = count;
    for (let w = 0; w < count; w++) {
      const worker = new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: { moduleUrl, exportName } });
      pool.push(worker);
      let current = -1;
      const feed = (): void => {
        if (failed || next >= jobs.length) {
          running--;
          if (running === 0) resolve();
          return;
        }
        current = next++;
        worker.postMessage({ id: current, job: jobs[current] });
      };
      worker.on('message', (msg: { ready?: boolean; id?: number; result?: R; error?: string; user?: boolean }) => {
        if (msg.ready) return feed();
        if (msg.error !== undefined) {
          failed ??= msg.user ? new NnsError(msg.error) : new Error(`job ${msg.id}: ${msg.error}`);
        } else {
          results[msg.id!] = msg.result as R;
          onResult?.(msg.id!, msg.result as R);
        }
        feed();
      });
      worker.on('error', (e) => {
        failed ??= new Error(`worker failed during job ${current}: ${e.message}`);
        running--;
        if (running === 0) resolve();
      });
    }
  });
  await Promise.all(pool.map((w) => w.terminate()));
  if (failed) throw failed;
  return results;
}
