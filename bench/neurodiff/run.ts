/**
 * One run of each tool, as a child process timed by the wall clock from spawn to exit.
 * NeuroDiff: `delta_network_test PROPERTY NNET1 NNET2 EPS` in its DiffNN-Code directory, stopped with SIGINT at the
 * limit as its artifact's `timeout -s 2` does; it proved the property iff it printed "No adv!", refuted it iff it
 * printed "adv found" (a float32 midpoint whose target output differs by >= EPS), else (stopped) not proved.
 * nnshrink: `nnshrink-dev.js equiv A B --view normalized --epsilon E --domain BOX --timeout S --jobs 1 --json`,
 * its verdict from the exit code (0 proved, 1 refuted, 3 unknown) and the JSON.
 * Each runs under GNU time for its CPU seconds (user + sys): on 2 cores shared with other work the wall clock
 * mostly measures the load, the CPU time what the tool spent. The limits stay wall-clock (nnshrink's --timeout is).
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export type Verdict = 'proved' | 'refuted' | 'unknown' | 'error';
export interface RunResult {
  verdict: Verdict;
  wallS: number;
  /** user + sys CPU seconds of the process and its threads */
  cpuS?: number;
  /** the tool's own time (NeuroDiff's "time:" line, nnshrink's timeMs), seconds, when it printed one */
  toolS?: number;
  /** NeuroDiff: input splits made; nnshrink: boxes bounded */
  work?: number;
  /** nnshrink: the proved max |A - B| so far (also when unknown) and the largest difference found */
  provedMax?: number | null;
  foundMax?: number;
  note?: string;
}

interface Ran { code: number | null; out: string; err: string; wallS: number; cpuS?: number }

function run(cmd: string, args: string[], cwd: string, stopAfterS: number, stopSignal: NodeJS.Signals): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const timeFile = join(tmpdir(), `neurodiff-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
    // its own process group, so that the stop signal reaches the tool (GNU time ignores SIGINT while it waits)
    const p = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, cmd, ...args], { cwd, detached: true, env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    const signal = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-p.pid!, sig);
      } catch {
        // the group has already gone
      }
    };
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const stop = setTimeout(() => signal(stopSignal), stopAfterS * 1000);
    // a child that ignores the stop signal is killed 20 s later (its run then counts as not proved)
    const kill = setTimeout(() => signal('SIGKILL'), (stopAfterS + 20) * 1000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(stop);
      clearTimeout(kill);
      let cpuS: number | undefined;
      try {
        // the last line (a first one may say the command was stopped by a signal)
        const [u, sy] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        cpuS = u + sy;
      } catch {
        // killed before time wrote its line
      }
      rmSync(timeFile, { force: true });
      resolve({ code, out, err, wallS: (performance.now() - t0) / 1000, cpuS: Number.isFinite(cpuS) ? cpuS : undefined });
    });
  });
}

export async function runNeuroDiff(ndDir: string, property: number, ndOrig: string, ndCopy: string, eps: number, limitS: number): Promise<RunResult> {
  const r = await run('./delta_network_test', [String(property), relative(ndDir, ndOrig), relative(ndDir, ndCopy), String(eps)], ndDir, limitS, 'SIGINT');
  const text = r.out + r.err;
  const time = /time: ([\d.eE+-]+)/.exec(text);
  const splits = /numSplits: (\d+)/.exec(text);
  const verdict: Verdict = text.includes('No adv!') ? 'proved' : text.includes('adv found') ? 'refuted' : r.code === 0 ? 'unknown' : 'error';
  return {
    verdict,
    wallS: r.wallS,
    cpuS: r.cpuS,
    toolS: time ? Number(time[1]) : undefined,
    work: splits ? Number(splits[1]) : undefined,
    note: verdict === 'error' ? `exit ${r.code}: ${text.trim().split('\n').pop()}` : undefined,
  };
}

export async function runNnshrink(root: string, a: string, b: string, domain: string, eps: number, limitS: number): Promise<RunResult> {
  const args = ['bin/nnshrink-dev.js', 'equiv', a, b, '--view', 'normalized', '--epsilon', String(eps), '--domain', domain, '--timeout', String(limitS), '--jobs', '1', '--json'];
  // nnshrink stops itself at --timeout; the outer stop (SIGTERM) only guards against a hang
  const r = await run(process.execPath, args, root, limitS + 60, 'SIGTERM');
  const verdict: Verdict = r.code === 0 ? 'proved' : r.code === 1 ? 'refuted' : r.code === 3 ? 'unknown' : 'error';
  if (verdict === 'error') return { verdict, wallS: r.wallS, cpuS: r.cpuS, note: `exit ${r.code}: ${r.err.trim().split('\n')[0] ?? ''}` };
  const j = JSON.parse(r.out) as { timeMs?: number; boxes?: number; provedMaxDiff?: number | null; foundMaxDiff?: number };
  return { verdict, wallS: r.wallS, cpuS: r.cpuS, toolS: j.timeMs !== undefined ? j.timeMs / 1000 : undefined, work: j.boxes, provedMax: j.provedMaxDiff, foundMax: j.foundMaxDiff };
}
