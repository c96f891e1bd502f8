/**
 * Time of one forward pass (batch 1) per network of ../shared/nets/cnn: nnshrink's graph evaluation (float64)
 * against onnxruntime's (float32, one thread), median of repeated runs after a warm-up, and the largest difference.
 * Run: node --import tsx bench/graph-forward.ts   (needs ../shared/nets)
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { SHARED_NETS } from '../test/helpers/shared.ts';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.onnx') ? [join(dir, e.name)] : []));
}

async function median(f: () => unknown | Promise<unknown>, runs: number): Promise<number> {
  await f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await f();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const cnn = join(SHARED_NETS, 'cnn');
console.log('| network | nodes | load (ms) | ours (ms) | onnxruntime (ms) | ratio | max abs diff |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const f of files(cnn).sort()) {
  const t0 = performance.now();
  const g = readOnnxGraph(f);
  const load = performance.now() - t0;
  const rng = mulberry32(1);
  const x = Float32Array.from({ length: size(g.input.shape) }, () => rng());
  const x64 = Float64Array.from(x);
  const sess = await ort.InferenceSession.create(f, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feed = { [sess.inputNames[0]]: new ort.Tensor('float32', x, [1, ...g.input.shape]) };
  const ours = await median(() => forwardGraph(g, x64, 1), 15);
  const theirs = await median(() => sess.run(feed), 15);
  const y = forwardGraph(g, x64, 1);
  const r = (await sess.run(feed))[sess.outputNames[0]].data as Float32Array;
  const diff = Math.max(...Array.from(y, (v, i) => Math.abs(v - r[i])));
  console.log(`| ${relative(cnn, f)} | ${g.nodes.length} | ${load.toFixed(1)} | ${ours.toFixed(2)} | ${theirs.toFixed(2)} | ${(ours / theirs).toFixed(1)} | ${diff.toExponential(1)} |`);
}
