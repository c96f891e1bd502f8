/**
 * `nnshrink worker --redis URL`: a process, on any machine, that runs the jobs coordinators put on the queue (slices,
 * census trees and tasks, VNN-COMP instances) until it is stopped (SIGINT or SIGTERM: the running jobs finish first;
 * a second signal ends it at once, and its jobs go back to the queue).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultWorkers } from '../pool/pool.ts';
import { intOpt, numberOpt, type CommandSpec } from './common.ts';
import { VERSION } from '../version.ts';
import { fail } from '../errors.ts';

export const workerCommand: CommandSpec = {
  name: 'worker',
  summary: 'run jobs from a Redis queue (slice, bounds --census, verify --instances with --redis) on this machine',
  usage:
    'nnshrink worker --redis redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] [--concurrency N] [--stalled-seconds S]\n' +
    '    (rediss:// for TLS; --concurrency: jobs at once, each on a thread, default the cores; --stalled-seconds: a\n' +
    '     worker that dies mid-job gives its job back to the queue after about this long, default 30; docs/distributed.md)',
  options: {
    redis: { type: 'string' },
    concurrency: { type: 'string' },
    'stalled-seconds': { type: 'string' },
  },
  maxPositionals: 0,
  exits: '0 stopped by a signal',
  async run(values) {
    if (typeof values.redis !== 'string') fail('worker: missing --redis URL (the queue to take jobs from)');
    const concurrency = intOpt(values, 'concurrency', defaultWorkers(), 1, 256);
    const stalledMs = numberOpt(values, 'stalled-seconds', 30, 1) * 1000;
    const [{ parseRedisUrl }, { startWorker }] = await Promise.all([import('../queue/url.ts'), import('../queue/worker.ts')]);
    const target = parseRedisUrl(values.redis);
    const cacheDir = mkdtempSync(join(tmpdir(), 'nnshrink-worker-'));
    const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    let w;
    try {
      w = await startWorker({ target, version: VERSION, concurrency, stalledMs, cacheDir, log });
    } catch (e) {
      rmSync(cacheDir, { recursive: true, force: true });
      throw e;
    }
    log(`worker ${w.info.id} (nnshrink ${VERSION}): ready on ${target.shown}, ${concurrency} job${concurrency === 1 ? '' : 's'} at once`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.once('SIGINT', () => process.exit(130));
        process.once('SIGTERM', () => process.exit(143));
        log('stopping: the running jobs finish first (a second signal ends at once)');
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await w.stop();
    rmSync(cacheDir, { recursive: true, force: true });
    log('stopped');
    return 0;
  },
};
