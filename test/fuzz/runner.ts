/** Lays a case out in a fresh directory, runs it, and judges what happened against what the case expects. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli, type CliRun } from '../helpers/run-cli.ts';
import type { FileSpec, FuzzCase } from './types.ts';

export const LIMITS = { ms: 10_000, rssKb: 512 * 1024, stderrChars: 300 };
const EXIT = { 'bad-input': 2, refuted: 1 } as const;

function writeSpec(path: string, spec: FileSpec): void {
  mkdirSync(dirname(path), { recursive: true });
  if (typeof spec === 'string' || spec instanceof Uint8Array) writeFileSync(path, spec);
  else if (spec.special === 'dir') mkdirSync(path, { recursive: true });
  else if (spec.special === 'fifo') execFileSync('mkfifo', [path]);
  else {
    const chunk = Buffer.alloc(1 << 20, spec.byte);
    const fd = openSync(path, 'w');
    try {
      for (let left = spec.size; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    } finally {
      closeSync(fd);
    }
  }
}

/** Every path under `dir` with a digest of what it is (a FIFO is never opened: that would block). */
function snapshot(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) {
      out.set(r, 'dir');
      for (const [k, v] of snapshot(dir, r)) out.set(k, v);
    } else if (st.isFile()) out.set(r, createHash('sha1').update(readFileSync(join(dir, r))).digest('hex'));
    else out.set(r, st.isFIFO() ? 'fifo' : 'other');
  }
  return out;
}

export interface Outcome {
  case: FuzzCase;
  ok: boolean;
  problems: string[];
  run: CliRun;
}

function judge(c: FuzzCase, r: CliRun, before: Map<string, string>, after: Map<string, string>): string[] {
  const p: string[] = [];
  if (r.killed) p.push(`killed after ${LIMITS.ms / 1000} s`);
  else if (r.code !== EXIT[c.expect]) p.push(`exit ${r.code ?? r.signal}, expected ${EXIT[c.expect]}`);
  if (!r.killed && r.ms > LIMITS.ms) p.push(`took ${(r.ms / 1000).toFixed(1)} s`);
  if (r.rssKb !== null && r.rssKb > LIMITS.rssKb) p.push(`peak RSS ${Math.round(r.rssKb / 1024)} MB`);
  if (c.expect === 'bad-input' && !r.killed) {
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    if (lines.length !== 1) p.push(`${r.stderrBytes > r.stderr.length ? 'over 64 kB' : lines.length + ' lines'} on stderr, expected 1`);
    else if (r.stderrBytes > LIMITS.stderrChars + 1 || lines[0].length > LIMITS.stderrChars) p.push(`stderr line of ${r.stderrBytes} bytes (at most ${LIMITS.stderrChars})`);
    else if (!lines[0].startsWith('nnshrink: error: ')) p.push("stderr line is not 'nnshrink: error: ...'");
    if (/\n\s+at .+:\d+:\d+/.test(r.stderr)) p.push('stack trace on stderr');
  }
  const added = [...after.keys()].filter((k) => !before.has(k));
  const changed = [...before.keys()].filter((k) => after.get(k) !== before.get(k));
  if (added.length) p.push(`left new files: ${added.join(', ')}`);
  if (changed.length) p.push(`changed or removed its inputs: ${changed.join(', ')}`);
  return p;
}

export async function runCase(c: FuzzCase, timeoutMs = LIMITS.ms): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'nnshrink-fuzz-'));
  try {
    for (const [rel, spec] of Object.entries(c.files)) writeSpec(join(dir, rel), spec);
    const before = snapshot(dir);
    const run = await runCli(c.argv, { cwd: dir, timeoutMs });
    const problems = judge(c, run, before, snapshot(dir));
    return { case: c, ok: problems.length === 0, problems, run };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the cases `parallel` at a time (child processes), in order of their index; `onDone` sees each outcome. */
export async function runAll(cases: FuzzCase[], parallel = 2, onDone?: (o: Outcome, done: number) => void): Promise<Outcome[]> {
  const out: Outcome[] = new Array(cases.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await runCase(cases[i]);
      onDone?.(out[i], ++done);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

/** One line per failed case: name, command, what happened. */
export function describeFailure(o: Outcome): string {
  const r = o.run;
  const err = r.stderr.replace(/[^\x20-\x7e]/g, (ch) => (ch === '\n' ? ' | ' : '?')).slice(0, 200);
  return `${o.case.name} [${o.case.kind}, expect ${o.case.expect}]: ${o.problems.join('; ')}\n    $ nnshrink ${o.case.argv.join(' ')}\n    exit ${r.killed ? 'killed' : r.code}, ${(r.ms / 1000).toFixed(1)} s, ${r.rssKb === null ? '?' : Math.round(r.rssKb / 1024)} MB, stderr: ${err}`;
}
