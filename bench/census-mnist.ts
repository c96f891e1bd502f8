/**
 * Phase census on MNIST L-infinity balls (784 inputs: no input splitting; one task per open neuron, ReLU splitting
 * then MILP): per network and radius, never / always / both / unknown summed over the first N test images, and the
 * mean time per ball, with the budget of `nnshrink bounds MODEL --census` (tasks of T s, at most 64, two workers).
 * Run: node --import tsx bench/census-mnist.ts [N=4] [taskSeconds=1.5] [models=mnist10x20.nnet,mnist20x40.nnet,mnist-net_256x2.onnx,mnist-net_256x4.onnx] [radii=0.02,0.05]
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../src/formats/load.ts';
import { makeBox } from '../src/model/box.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';
import { phaseCensusParallel } from '../src/verify/phase/phase.ts';
import { sharedPath } from '../test/helpers/shared.ts';

await loadMilpSolver();
const N = Number(process.argv[2] ?? 4);
const taskMs = Number(process.argv[3] ?? 1.5) * 1000;
const models = (process.argv[4] ?? 'mnist10x20.nnet,mnist20x40.nnet,mnist-net_256x2.onnx,mnist-net_256x4.onnx').split(',');
const radii = (process.argv[5] ?? '0.02,0.05').split(',').map(Number);
const imgs = readFileSync(sharedPath('mnist', 'data', 'mnist_test.csv'), 'utf8').trim().split('\n').slice(0, N).map((l) => l.split(',').slice(1).map((v) => Number(v) / 255));
console.log(`first ${N} test images, tasks of ${taskMs / 1000} s (at most 64), two workers\n`);
console.log('| model | radius | ReLUs (x balls) | never | always | both | unknown | mean time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const name of models) {
  const m = loadModel(sharedPath('mnist', name.endsWith('.onnx') ? 'onnx' : 'nnet', name));
  const relus = m.network.layers.slice(0, -1).reduce((s, L) => s + L.outSize, 0);
  for (const r of radii) {
    const sum = { never: 0, always: 0, both: 0, unknown: 0 };
    let time = 0;
    for (const x of imgs) {
      const box = makeBox(x.map((v) => Math.max(0, v - r)), x.map((v) => Math.min(1, v + r)));
      const t0 = Date.now();
      const c = await phaseCensusParallel(m.network, [box], { boundsFn: crownBounds, timeoutMs: 4000, finishTaskMs: taskMs }, 2);
      time += Date.now() - t0;
      for (const k of ['never', 'always', 'both', 'unknown'] as const) sum[k] += c.counts[k];
    }
    console.log(`| ${name} | ${r} | ${relus} x ${N} | ${sum.never} | ${sum.always} | ${sum.both} | ${sum.unknown} | ${(time / N / 1000).toFixed(1)} |`);
  }
}
