/**
 * MNIST local domains: L-infinity balls of radius r around the first N test images (clipped to [0,1]), exact and
 * class-preserving (argmax) pruning: ReLUs and parameters before/after, final check, time. The two modes of one
 * ball share its phase census (as `prune` makes it); each still runs its own final check.
 * Run: node --import tsx bench/mnist.ts [N=20] [timeoutSeconds=1] [models=mnist10x20.nnet,mnist-net_256x2.onnx]
 * Rows also go to bench/out/mnist.jsonl.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { loadModel } from '../src/formats/load.ts';
import { makeBox, type Box } from '../src/model/box.ts';
import { sizeMetrics } from '../src/model/network.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { pruneAndCheck, type CertifyOptions } from '../src/simplify/certify.ts';
import { censusOptions } from '../src/simplify/prune.ts';
import { phaseCensusParallel } from '../src/verify/phase/phase.ts';
import type { Tolerance } from '../src/verify/tolerance.ts';
import { sharedPath } from '../test/helpers/shared.ts';

const N = Number(process.argv[2] ?? 20);
const t = Number(process.argv[3] ?? 1) * 1000;
const models = (process.argv[4] ?? 'mnist10x20.nnet,mnist-net_256x2.onnx').split(',');
mkdirSync(new URL('./out', import.meta.url), { recursive: true });
const jsonl = new URL('./out/mnist.jsonl', import.meta.url);
const imgs = readFileSync(sharedPath('mnist', 'data', 'mnist_test.csv'), 'utf8').trim().split('\n').slice(0, N).map((l) => l.split(',').slice(1).map((v) => Number(v) / 255));
const base = (box: Box, tol: Tolerance): CertifyOptions => ({
  domain: [box], tolerance: tol, boundsFn: crownBounds, outputLinearLower, queryTimeoutMs: t, toleranceBudgetMs: 4 * t,
  roundTrip: (n) => n, precision: 'float64', finalTimeoutMs: 4 * t, finalSamples: 2000,
});
const modes: Array<[string, Tolerance]> = [['exact', { kind: 'exact' }], ['argmax', { kind: 'class', order: 'argmax', margin: 0 }]];
console.log(`query limit ${t / 1000} s, first ${N} test images\n`);
console.log('| model | radius | mode | images | ReLUs after, mean (of) | parameters after, mean (of) | proved | mean time (s) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const name of models) {
  const m = loadModel(sharedPath('mnist', name.endsWith('.onnx') ? 'onnx' : 'nnet', name));
  const before = sizeMetrics(m.network);
  for (const r of [0.02, 0.05]) {
    const acc = modes.map(() => ({ relus: 0, params: 0, proved: 0, time: 0 }));
    for (const [idx, x] of imgs.entries()) {
      const box = makeBox(x.map((v) => Math.max(0, v - r)), x.map((v) => Math.min(1, v + r)));
      const census = await phaseCensusParallel(m.network, [box], censusOptions(base(box, { kind: 'exact' })), 1);
      for (const [mi, [mode, tol]] of modes.entries()) {
        const t0 = Date.now();
        let after = before;
        let ok = false;
        try {
          const res = await pruneAndCheck(m.network, { ...base(box, tol), census });
          after = res.result.after;
          ok = true;
        } catch {
          // a failed final check writes nothing: the network stays as it was
        }
        const time = Date.now() - t0 + census.timeMs;
        const a = acc[mi];
        a.relus += after.reluNeurons;
        a.params += after.parameters;
        a.proved += ok ? 1 : 0;
        a.time += time;
        appendFileSync(jsonl, JSON.stringify({ model: name, radius: r, image: idx, mode, census: census.counts, after, ok, time }) + '\n');
      }
    }
    modes.forEach(([mode], mi) => {
      const a = acc[mi];
      const n = imgs.length;
      console.log(`| ${name} | ${r} | ${mode} | ${n} | ${(a.relus / n).toFixed(1)} (${before.reluNeurons}) | ${(a.params / n).toFixed(0)} (${before.parameters}) | ${a.proved}/${n} | ${(a.time / n / 1000).toFixed(1)} |`);
    });
  }
}
