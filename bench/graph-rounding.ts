/**
 * The float32 rounding bound of graph quantisation (src/simplify/quantize/graph-rounding.ts) against what
 * onnxruntime does: per network of ../shared/nets/cnn (its first ball), the proved bound R of |float32 g - exact g|
 * on the ball (from interval bounds; from CROWN bounds, the one quantize uses; each the tighter of the forward and
 * backward passes) and the
 * largest |ORT(f) - f| on POINTS points of the ball (f evaluated exactly by nnshrink in float64, onnxruntime fed
 * float32 with its default graph optimisations, which fuse BatchNormalization and Add into Conv).
 * Run: node --import tsx bench/graph-rounding.ts [points=200] [networks=all]
 */
import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, normalize } from 'node:path';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { graphFloat32Rounding } from '../src/simplify/quantize/graph-rounding.ts';

const points = Number(process.argv[2] ?? 200);
const only = process.argv[3] && process.argv[3] !== 'all' ? new Set(process.argv[3].split(',')) : null;
const root = join(SHARED_NETS, 'cnn');

console.log(`| network | ball | R from interval bounds | R from CROWN bounds (s) | largest |ORT(f) - f| on ${points} points |`);
console.log('|---|---|---|---|---|');
for (const b of readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort()) {
  const list = readdirSync(join(root, b)).find((f) => f.endsWith('instances.csv'))!;
  const seen = new Set<string>();
  for (const l of readFileSync(join(root, b, list), 'utf8').trim().split('\n')) {
    const [m, p] = l.split(',').map((s) => normalize(join(root, b, s.trim())));
    if (seen.has(m) || (only && !only.has(basename(m, '.onnx')))) continue;
    seen.add(m);
    const g = readOnnxGraph(m);
    const box = readVnnlib(p).regions[0].box;
    const ri = graphFloat32Rounding(g, [box], 'interval');
    const t0 = Date.now();
    const rc = graphFloat32Rounding(g, [box], 'crown');
    const secs = (Date.now() - t0) / 1000;
    const xs = samplePoints(box, points, mulberry32(5));
    const n = box.lo.length;
    const s = await ort.InferenceSession.create(m, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    let worst = 0;
    for (let i = 0; i < points; i++) {
      const x = xs.subarray(i * n, (i + 1) * n);
      const y = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(x), [1, ...g.input.shape]) }))[s.outputNames[0]].data as Float32Array;
      const z = forwardGraph(g, Float64Array.from(x));
      for (let k = 0; k < z.length; k++) worst = Math.max(worst, Math.abs(y[k] - z[k]));
    }
    console.log(`| ${basename(m)} | ${basename(p)} | ${ri.toPrecision(3)} | ${rc.toPrecision(3)} (${secs.toFixed(1)}) | ${worst.toPrecision(3)} |`);
  }
}
