/**
 * A JobRunner (the job queue) as the pool the searches' trees step on (SessionPool): every step of a session becomes
 * one job carrying the session's state with it (its network travels as a blob, sent once), handled by queue/steps.ts.
 * Only the sessions named here go on the queue: any other is a bug of the caller, refused. The trees are those of a
 * pool of threads, so the answer is the same for any number of workers and machines.
 */
import type { JobRunner, Session, SessionPool } from '../pool/pool.ts';

const STEPS = new URL('./steps.ts', import.meta.url).href;
const stem = (url: string): string => url.replace(/\.(ts|js)$/, '');
const at = (path: string): string => stem(new URL(path, import.meta.url).href);

/** A search's session (its module, the export that makes its state, the export of one step): the queue's step. */
const SESSION_STEPS: Array<{ module: string; make: string; run: string; step: string }> = [
  { module: at('../verify/search/input-split.ts'), make: 'splitContextOnWorker', run: 'expandOnWorker', step: 'splitStep' },
  { module: at('../verify/property/maximize.ts'), make: 'treeContextOnWorker', run: 'splitOnWorker', step: 'maxStep' },
];

export function runnerSessions(runner: JobRunner): SessionPool {
  return {
    // never 1: a search on one thread would not batch its steps, and the queue would get nothing
    size: Math.max(2, runner.size),
    session(sourceUrl: string, makeExport: string, setup: unknown): Session {
      return {
        async run<J, R>(exportName: string, jobs: J[]): Promise<R[]> {
          const s = SESSION_STEPS.find((x) => x.module === stem(sourceUrl) && x.make === makeExport && x.run === exportName);
          if (!s) throw new Error(`the job queue runs no session step ${exportName} of ${sourceUrl.split('/').slice(-2).join('/')}`);
          return runner.run<{ setup: unknown; step: J }, R>(STEPS, s.step, jobs.map((step) => ({ setup, step })));
        },
        async close() {},
      };
    },
  };
}
