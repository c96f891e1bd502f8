/**
 * Runs `node bin/nnshrink-dev.js ARGS` (the sources through tsx, so an edit in src/ needs no rebuild; the compiled
 * bin/nnshrink.js is test/package.test.ts's) as a child process in its own process group, with a kill timeout, and
 * measures its peak resident memory: GNU time's %M (maximum RSS in KB, written to a side file so stderr stays the
 * command's own) where /usr/bin/time exists, else the child's VmHWM polled from /proc every 20 ms (a lower bound).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

/**
 * the CLI under test (NNSHRINK_BIN: another checkout's launcher, e.g. to show a case fails without its fix; or
 * bin/nnshrink.js, to run the tests on the compiled dist/)
 */
export const BIN = process.env.NNSHRINK_BIN ?? fileURLToPath(new URL('../../bin/nnshrink-dev.js', import.meta.url));
const GNU_TIME = '/usr/bin/time';
export const MEMORY_METHOD = existsSync(GNU_TIME) ? 'GNU time %M (peak RSS)' : '/proc VmHWM polled every 20 ms';

export interface CliRun {
  code: number | null;
  signal: string | null;
  /** killed at the timeout */
  killed: boolean;
  ms: number;
  /** peak RSS in KB, when it could be measured */
  rssKb: number | null;
  stdout: string;
  stderr: string;
  /** total bytes written to stderr (only the first 64 kB are kept) */
  stderrBytes: number;
}

const KEEP = 64 * 1024;
let serial = 0;

export function runCli(argv: string[], opts: { cwd: string; timeoutMs: number }): Promise<CliRun> {
  const rssFile = join(tmpdir(), `nnshrink-rss-${process.pid}-${serial++}`);
  const useTime = existsSync(GNU_TIME);
  const cmd = useTime ? GNU_TIME : process.execPath;
  const args = useTime ? ['-f', '%M', '-o', rssFile, process.execPath, BIN, ...argv] : [BIN, ...argv];
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: opts.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NNSHRINK_DEBUG: '' } });
  let stdout = '';
  let stderr = '';
  let stderrBytes = 0;
  child.stdout.on('data', (d: Buffer) => {
    if (stdout.length < KEEP) stdout += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    stderrBytes += d.length;
    if (stderr.length < KEEP) stderr += d.toString('utf8');
  });
  let killed = false;
  let hwm = 0;
  const poll = useTime
    ? undefined
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwm = Math.max(hwm, Number(m[1]));
        } catch {
          // the process has ended
        }
      }, 20);
  const timer = setTimeout(() => {
    killed = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, opts.timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const ms = performance.now() - t0;
      let rssKb: number | null = useTime ? null : hwm || null;
      if (useTime && existsSync(rssFile)) {
        const nums = readFileSync(rssFile, 'utf8').trim().split('\n').filter((l) => /^\d+$/.test(l.trim()));
        if (nums.length) rssKb = Number(nums[nums.length - 1]);
        rmSync(rssFile, { force: true });
      }
      // GNU time passes the command's exit code on; a signal shows as 128 + its number
      resolve({ code: killed ? null : code, signal: killed ? 'SIGKILL' : signal, killed, ms, rssKb, stdout, stderr, stderrBytes });
    });
  });
}

export interface SimpleRun {
  code: number;
  out: string;
  err: string;
}

/** `node BIN ARGS` in `dir`, collecting its output; several may run side by side (each is mostly start-up). */
export function cliIn(dir: string): (...args: string[]) => Promise<SimpleRun> {
  return (...args) =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [BIN, ...args], { cwd: dir });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    });
}
