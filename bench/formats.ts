/**
 * Load time and forward-pass throughput (inputs/second at batch 1 and batch 1024).
 * Run: node --import tsx bench/formats.ts   (needs ../shared/nets)
 */
import { performance } from 'node:perf_hooks';
import { loadModel } from '../src/formats/load.ts';
import { forward } from '../src/model/network.ts';
import { samplePoints, makeBox } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import { join } from 'node:path';

const files = [
  join(SHARED_NETS, 'acasxu/nnet/ACASXU_run2a_1_1_batch_2000.nnet'),
  join(SHARED_NETS, 'acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx'),
  join(SHARED_NETS, 'mnist/onnx/mnist-net_256x4.onnx'),
];
console.log('| model | load (ms, median of 5) | batch 1 (inputs/s) | batch 1024 (inputs/s) |');
console.log('| --- | --- | --- | --- |');
for (const f of files) {
  const times: number[] = [];
  let m = loadModel(f);
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    m = loadModel(f);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const n = m.network.inputSize;
  const box = m.domain ?? makeBox(new Array(n).fill(0), new Array(n).fill(1));
  const xs = samplePoints(box, 1024, mulberry32(1));
  const rate = (batch: number): number => {
    let count = 0;
    const t = performance.now();
    while (performance.now() - t < 1000) {
      if (batch === 1) for (let s = 0; s < 1024; s++) forward(m.network, xs.subarray(s * n, (s + 1) * n), 1);
      else forward(m.network, xs, 1024);
      count += 1024;
    }
    return count / ((performance.now() - t) / 1000);
  };
  rate(1);
  console.log(`| ${f.split('/').pop()} | ${times[2].toFixed(1)} | ${Math.round(rate(1)).toLocaleString('en')} | ${Math.round(rate(1024)).toLocaleString('en')} |`);
}
