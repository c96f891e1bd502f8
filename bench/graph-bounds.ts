/**
 * Bounds on graphs per network of ../shared/nets/cnn, on an L-infinity ball of eps 2/255 around a random image
 * (inputs clipped to [0, 1]): time of interval bounds, of a full CROWN pass (every nonlinear input's bounds), each
 * against one forward pass of nnshrink's and of onnxruntime's (ratio to onnxruntime's), the unstable ReLUs left after each method, and the peak resident memory.
 * One network per process (peak memory is per network). Run: node --import tsx bench/graph-bounds.ts [net.onnx]
 */
import { readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { mulberry32 } from '../src/model/rng.ts';
import type { Graph } from '../src/model/graph/types.ts';
import { graphIntervalBounds } from '../src/bounds/graph/interval.ts';
import { graphCrownBounds } from '../src/bounds/graph/crown.ts';
import type { TensorBounds } from '../src/bounds/graph/types.ts';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import * as ort from 'onnxruntime-node';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.onnx') ? [join(dir, e.name)] : []));
}

function timed<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

/** ReLU inputs with lo < 0 < hi, and the ReLUs counted. */
function unstable(g: Graph, b: TensorBounds): [number, number] {
  let u = 0;
  let n = 0;
  for (const node of g.nodes) {
    if (node.op !== 'relu') continue;
    const { lo, hi } = b.get(node.inputs[0])!;
    n += lo.length;
    for (let i = 0; i < lo.length; i++) if (lo[i] < 0 && hi[i] > 0) u++;
  }
  return [u, n];
}

async function one(f: string): Promise<string> {
  const g = readOnnxGraph(f);
  const r = mulberry32(1);
  const n = size(g.input.shape);
  const c = Float64Array.from({ length: n }, () => r());
  const eps = 2 / 255;
  const box = { lo: c.map((v) => Math.max(0, v - eps)), hi: c.map((v) => Math.min(1, v + eps)) };
  forwardGraph(g, c, 1);
  const fw = Math.min(...Array.from({ length: 5 }, () => timed(() => forwardGraph(g, c, 1))[1]));
  const [ib, ti] = timed(() => graphIntervalBounds(g, box));
  const [cb, tc] = timed(() => graphCrownBounds(g, box));
  const [ui, relus] = unstable(g, ib);
  const [uc] = unstable(g, cb);
  const rss = process.resourceUsage().maxRSS / 1024; // kB -> MB (before onnxruntime: nnshrink's own peak)
  const s = await ort.InferenceSession.create(f);
  const dims = [typeof g.input.batch === 'number' ? g.input.batch : 1, ...g.input.shape];
  const feed = { [s.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(c), dims) };
  await s.run(feed);
  let ortMs = Infinity;
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    await s.run(feed);
    ortMs = Math.min(ortMs, performance.now() - t);
  }
  const cells = [g.nodes.length, relus, fw.toFixed(2), ortMs.toFixed(2), ti.toFixed(1), (ti / ortMs).toFixed(0), (tc / 1000).toFixed(2), (tc / ortMs).toFixed(0), ui, uc, rss.toFixed(0)];
  return cells.join(' | ');
}

const cnn = join(SHARED_NETS, 'cnn');
if (process.argv[2]) {
  console.log(await one(process.argv[2]));
} else {
  console.log('| network | nodes | ReLUs | forward (ms) | onnxruntime forward (ms) | interval (ms) | ratio to ORT | CROWN (s) | ratio to ORT | unstable (interval) | unstable (CROWN) | peak RSS (MB) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const self = fileURLToPath(import.meta.url);
  for (const f of files(cnn).sort()) {
    const row = execFileSync(process.execPath, ['--import', 'tsx', self, f], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim();
    console.log(`| ${relative(cnn, f)} | ${row} |`);
  }
}
