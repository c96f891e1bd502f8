/**
 * The worker loop: run each job it is sent with the named export of the named module, post the result back. A
 * session's state (WorkerPool.session) is made once by its opening message and handed to each of its jobs.
 */
import { parentPort } from 'node:worker_threads';
import { NnsError } from '../errors.ts';

type Handler = (job: unknown, state?: unknown) => unknown;
const modules = new Map<string, Promise<Record<string, Handler>>>();
const sessions = new Map<string, unknown>();

parentPort!.on('message', async (msg: { id: number; moduleUrl: string; exportName: string; job: unknown; session?: string; op?: 'open' | 'close' }) => {
  try {
    if (msg.op === 'close') {
      sessions.delete(msg.session!);
      parentPort!.postMessage({ id: msg.id, result: true });
      return;
    }
    let mod = modules.get(msg.moduleUrl);
    if (!mod) {
      mod = import(msg.moduleUrl) as Promise<Record<string, Handler>>;
      modules.set(msg.moduleUrl, mod);
    }
    const handler = (await mod)[msg.exportName];
    if (msg.op === 'open') {
      sessions.set(msg.session!, await handler(msg.job));
      parentPort!.postMessage({ id: msg.id, result: true });
      return;
    }
    if (msg.session !== undefined && !sessions.has(msg.session)) throw new Error(`no session ${msg.session} on this worker`);
    const result = await handler(msg.job, msg.session === undefined ? undefined : sessions.get(msg.session));
    parentPort!.postMessage({ id: msg.id, result });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: (e as Error).message, user: e instanceof NnsError });
  }
});
parentPort!.postMessage({ ready: true });
