/**
 * MNIST VNN-COMP 2021 properties (L-infinity robustness around test images) on mnist-net_256x2 and 256x4: verdict
 * and time per instance. Many inputs, so no input splitting: CROWN on the ball, then one MILP per open output
 * constraint (HiGHS), time shared evenly. Run: node --import tsx bench/mnist-verify.ts [timeoutSeconds=60]
 */
import { readdirSync } from 'node:fs';
import { loadModel } from '../src/formats/load.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { decideProperty } from '../src/verify/property/property.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';
import { sharedPath } from '../test/helpers/shared.ts';

await loadMilpSolver();
const timeout = Number(process.argv[2] ?? 60) * 1000;
const props = readdirSync(sharedPath('mnist', 'vnnlib')).filter((f) => f.endsWith('.vnnlib')).sort();
console.log(`timeout ${timeout / 1000} s per instance\n`);
console.log('| network | property | verdict | time (s) |');
console.log('| --- | --- | --- | --- |');
for (const name of ['mnist-net_256x2.onnx', 'mnist-net_256x4.onnx']) {
  const m = loadModel(sharedPath('mnist', 'onnx', name));
  for (const p of props) {
    const prop = readVnnlib(sharedPath('mnist', 'vnnlib', p));
    const r = decideProperty(m.network, prop, { boundsFn: crownBounds, outputLinearLower, timeoutMs: timeout });
    console.log(`| ${name.replace('.onnx', '')} | ${p.replace('.vnnlib', '')} | ${r.result}${r.reason ? ` (${r.reason})` : ''} | ${(r.timeMs / 1000).toFixed(1)} |`);
  }
}
