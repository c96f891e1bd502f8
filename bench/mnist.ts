/**
 * MNIST local domains: L-infinity balls of radius r around the first N test images (clipped to [0,1]), exact and
 * class-preserving (argmax) pruning: ReLUs before/after, final check, time.
 * Run: node --import tsx bench/mnist.ts [N=5] [timeoutSeconds=5] [models=mnist10x20.nnet,mnist-net_256x2.onnx]
 */
import { readFileSync } from 'node:fs';
import { loadModel } from '../src/formats/load.ts';
import { makeBox } from '../src/model/box.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { pruneAndCheck } from '../src/simplify/certify.ts';
import type { Tolerance } from '../src/verify/tolerance.ts';
import { sharedPath } from '../test/helpers/shared.ts';

const N = Number(process.argv[2] ?? 5);
const t = Number(process.argv[3] ?? 5) * 1000;
const models = (process.argv[4] ?? 'mnist10x20.nnet,mnist-net_256x2.onnx').split(',');
const imgs = readFileSync(sharedPath('mnist', 'data', 'mnist_test.csv'), 'utf8').trim().split('\n').slice(0, N).map((l) => l.split(',').slice(1).map((v) => Number(v) / 255));
console.log('| model | radius | mode | images | mean ReLUs after (of before) | proved | mean time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const name of models) {
  const m = loadModel(sharedPath('mnist', name.endsWith('.onnx') ? 'onnx' : 'nnet', name));
  for (const r of [0.02, 0.05]) {
    for (const [mode, tol] of [['exact', { kind: 'exact' }], ['argmax', { kind: 'class', order: 'argmax', margin: 0 }]] as Array<[string, Tolerance]>) {
      let after = 0;
      let proved = 0;
      let time = 0;
      for (const x of imgs) {
        const box = makeBox(x.map((v) => Math.max(0, v - r)), x.map((v) => Math.min(1, v + r)));
        const t0 = Date.now();
        try {
          const res = pruneAndCheck(m.network, {
            domain: [box], tolerance: tol, boundsFn: crownBounds, outputLinearLower, queryTimeoutMs: t, toleranceBudgetMs: 4 * t,
            roundTrip: (n) => n, precision: 'float64', finalTimeoutMs: 4 * t, finalSamples: 2000,
          });
          after += res.result.after.reluNeurons;
          proved++;
        } catch {
          after += m.network.layers.reduce((s, L) => s + L.relu.reduce((a, b) => a + b, 0), 0);
        }
        time += Date.now() - t0;
      }
      const before = m.network.layers.reduce((s, L) => s + L.relu.reduce((a, b) => a + b, 0), 0);
      console.log(`| ${name} | ${r} | ${mode} | ${imgs.length} | ${(after / imgs.length).toFixed(1)} (${before}) | ${proved}/${imgs.length} | ${(time / imgs.length / 1000).toFixed(1)} |`);
    }
  }
}
