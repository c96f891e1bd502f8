/**
 * The queue tests' own Redis: Debian's redis-server on 127.0.0.1 and a free port, no persistence, a temporary
 * directory, stopped after; and `nnshrink worker` processes on it. Where redis-server is absent the tests skip
 * saying so (.ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './run-cli.ts';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
export const NO_REDIS = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run does it)';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A server of its own; `password` makes it require one. */
export async function startRedis(password?: string): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'nnshrink-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(password ? ['--requirepass', password] : [])];
  const proc = spawn(REDIS_SERVER!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start: ${out.slice(-300)}`)), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once('exit', (c) => reject(new Error(`redis-server exited ${c}: ${out.slice(-300)}`)));
  });
  return {
    url: `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`,
    port,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestWorker {
  proc: ChildProcess;
  /** its output so far */
  log: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `nnshrink worker --redis URL ARGS`, resolved once it says it is ready. */
export async function startWorker(url: string, args: string[] = []): Promise<TestWorker> {
  const proc = spawn(process.execPath, [BIN, 'worker', '--redis', url, '--concurrency', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NNSHRINK_DEBUG: '1' } });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (/ready on/.test(out)) {
        clearInterval(t);
        resolve();
      }
    }, 50);
    proc.once('exit', (c) => {
      clearInterval(t);
      reject(new Error(`worker exited ${c}: ${out.slice(-300)}`));
    });
  });
  return {
    proc,
    log: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await gone;
    },
  };
}

/** redis-cli against a test server (for the tests' own looks at the keys). */
export function redisCli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;
}
