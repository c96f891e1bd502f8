/** The worker loop: run each job it is sent with the named export of the named module, post the result back. */
import { parentPort } from 'node:worker_threads';
import { NnsError } from '../errors.ts';

type Handler = (job: unknown) => unknown;
const modules = new Map<string, Promise<Record<string, Handler>>>();

parentPort!.on('message', async (msg: { id: number; moduleUrl: string; exportName: string; job: unknown }) => {
  try {
    let mod = modules.get(msg.moduleUrl);
    if (!mod) {
      mod = import(msg.moduleUrl) as Promise<Record<string, Handler>>;
      modules.set(msg.moduleUrl, mod);
    }
    const result = await (await mod)[msg.exportName](msg.job);
    parentPort!.postMessage({ id: msg.id, result });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: (e as Error).message, user: e instanceof NnsError });
  }
});
parentPort!.postMessage({ ready: true });
