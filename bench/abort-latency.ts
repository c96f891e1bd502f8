/**
 * How soon a timer's abort ends a library prune in its tolerance search (issue 28, "abort and progress"): the default
 * network on the unit box within 0.1 (query limit 1 s), aborted by a timer 300 ms after the search's first report.
 * Prints the stage timeline, the time from the abort to the rejection, and this process's CPU time.
 * Run: node --import tsx bench/abort-latency.ts [--no-abort]
 */
import { defaultModel, makeBox, prune } from '../src/index.ts';

const abort = !process.argv.includes('--no-abort');
const ctl = new AbortController();
const t0 = performance.now();
const c0 = process.cpuUsage();
const stages: Array<[number, string]> = [];
let firedAt = 0;
let dueAt = 0;
let armed = false;
const at = (): number => Math.round(performance.now() - t0);
try {
  await prune(defaultModel(), {
    output: '/tmp/nnshrink-abort-latency.onnx',
    write: false,
    domain: makeBox([0, 0, 0, 0, 0], [1, 1, 1, 1, 1]),
    tolerance: { kind: 'linf', epsilon: 0.1 },
    timeoutMs: 1000,
    signal: ctl.signal,
    onProgress: (p) => {
      if (stages.at(-1)?.[1] !== p.stage) stages.push([at(), p.stage]);
      if (abort && !armed && p.stage.startsWith('tolerance search')) {
        armed = true;
        dueAt = at() + 300;
        setTimeout(() => {
          firedAt = at();
          ctl.abort(new Error('timer'));
        }, 300);
      }
    },
  });
  console.log(`finished at ${at()} ms`);
} catch (e) {
  console.log(`${(e as Error).name} at ${at()} ms: ${at() - dueAt} ms after the timer was due (${dueAt} ms; it fired at ${firedAt} ms)`);
}
const cpu = process.cpuUsage(c0);
console.log(`cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms (this process)`);
for (const [t, s] of stages) console.log(`  ${t} ms  ${s}`);
