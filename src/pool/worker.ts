/** The worker loop: load the handler module named by the pool, run each job it is sent, post the result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { NnsError } from '../errors.ts';

const { moduleUrl, exportName } = workerData as { moduleUrl: string; exportName: string };
const mod = (await import(moduleUrl)) as Record<string, (job: unknown) => unknown>;
const handler = mod[exportName];

parentPort!.on('message', async (msg: { id: number; job: unknown }) => {
  try {
    const result = await handler(msg.job);
    parentPort!.postMessage({ id: msg.id, result });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: (e as Error).message, user: e instanceof NnsError });
  }
});
parentPort!.postMessage({ ready: true });
