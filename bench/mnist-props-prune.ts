/**
 * `nnshrink prune` on the VNN-COMP MNIST properties' input balls, as a user runs it (the command line, ONNX output):
 * per property and mode (exact, class-preserving argmax, or an L-infinity tolerance eps=E): ReLUs and parameters
 * after, the tolerance search's line, time.
 * Run: node --import tsx bench/mnist-props-prune.ts [timeoutSeconds=10] [models=mnist-net_256x2] [props=all six] [modes=exact,argmax]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '../test/helpers/shared.ts';

const timeout = process.argv[2] ?? '10';
const models = (process.argv[3] ?? 'mnist-net_256x2').split(',');
const props = (process.argv[4] || 'prop_0_0.03,prop_0_0.05,prop_1_0.03,prop_1_0.05,prop_2_0.03,prop_2_0.05').split(',');
const modes = (process.argv[5] ?? 'exact,argmax').split(',');
const bin = new URL('../bin/nnshrink-dev.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-bench-'));
console.log(`prune --timeout ${timeout}, ONNX output\n`);
console.log('| model | property | mode | ReLUs after (of) | parameters after (of) | tolerance search | result | time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const model of models) {
  for (const prop of props) {
    for (const mode of modes) {
      const t0 = Date.now();
      const args = [bin, 'prune', sharedPath('mnist', 'onnx', `${model}.onnx`), '--vnnlib', sharedPath('mnist', 'vnnlib', `${prop}.vnnlib`), '-o', join(dir, 'out.onnx'), '--timeout', timeout, '--json'];
      if (mode === 'argmax') args.push('--preserve-class', 'argmax');
      if (mode.startsWith('eps=')) args.push('--epsilon', mode.slice(4));
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
      const s = ((Date.now() - t0) / 1000).toFixed(1);
      if (r.status !== 0) {
        console.log(`| ${model} | ${prop} | ${mode} | | | | failed: ${r.stderr.trim().split('\n').pop()} | ${s} |`);
        continue;
      }
      const j = JSON.parse(r.stdout);
      const t = j.toleranceSearch;
      const ts = !t ? '' : t.ended === 'no-winner' ? 'not run (class not proved robust)' : `${t.accepted} kept, ${t.provedQueries}/${t.queries} queries proved${t.ended === 'budget' ? ', out of time' : ''}`;
      console.log(`| ${model} | ${prop} | ${mode} | ${j.after.reluNeurons} (${j.before.reluNeurons}) | ${j.after.parameters} (${j.before.parameters}) | ${ts} | proved (${j.finalCheck.verdict.method}) | ${s} |`);
    }
  }
}
rmSync(dir, { recursive: true, force: true });
