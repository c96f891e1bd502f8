/**
 * The queue tests' own Redis: Debian's redis-server on 127.0.0.1 and a free port, no persistence, a temporary
 * directory, stopped after; and `nnshrink worker` processes on it. Where redis-server is absent the tests skip
 * saying so (.ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
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

/** A server of its own; `password` makes it require one; `tls` (a certificate and key for localhost) serves TLS only. */
export async function startRedis(opts: { password?: string; tls?: { cert: string; key: string } } = {}): Promise<TestRedis> {
  const { password, tls } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'nnshrink-redis-'));
  const port = await freePort();
  const listen = tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-auth-clients', 'no'] : ['--port', String(port)];
  const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(password ? ['--requirepass', password] : [])];
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
    url: tls ? `rediss://${password ? `:${password}@` : ''}localhost:${port}` : `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`,
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

/** A certificate authority and a server certificate for localhost and 127.0.0.1 in `dir`, by openssl (undefined
 * where openssl is absent). */
export function makeTlsFiles(dir: string): { ca: string; cert: string; key: string } | undefined {
  const run = (...args: string[]): boolean => spawnSync('openssl', args, { cwd: dir, stdio: 'ignore' }).status === 0;
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const ok =
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=nnshrink test CA') &&
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost') &&
    run('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');
  return ok ? { ca: join(dir, 'ca.pem'), cert: join(dir, 'srv.pem'), key: join(dir, 'srv.key') } : undefined;
}

/** redis-cli against a test server (for the tests' own looks at the keys). */
export function redisCli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;
}

/** A test file's own Redis and worker processes, filled in by its before() hook and stopped by its after(). */
export interface QueueFixture {
  redis: TestRedis;
  workers: TestWorker[];
}

/**
 * Registers before() / after() hooks that start a redis-server and `count` worker processes for the file's tests
 * and stop them afterwards (nothing at all where redis-server is absent: the tests skip with NO_REDIS).
 */
export function useRedisWithWorkers(count = 2): QueueFixture {
  const q = { workers: [] } as unknown as QueueFixture;
  before(async () => {
    if (NO_REDIS) return;
    q.redis = await startRedis();
    q.workers = await Promise.all(Array.from({ length: count }, () => startWorker(q.redis.url)));
  });
  after(async () => {
    await Promise.all(q.workers.map((w) => w.stop()));
    await q.redis?.stop();
  });
  return q;
}
