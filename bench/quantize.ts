/**
 * Certified quantisation (issue 30, benchmark 2, first step): int8 per channel and float16 on ACAS Xu (the VNN-COMP
 * ONNX files, normalised units, on the property 3 box) and MNIST 256x2 on VNN-COMP balls. Per network and target:
 * the smallest E that --epsilon auto proves (bisection, each proof at most MAX_BOXES boxes), the proved float32
 * rounding part of it, the file size against the float32 file nnshrink writes of the same network, onnxruntime's
 * latency (one row per run, the files' own batch of 1; the least mean of 10 blocks of 500 runs, the two files
 * alternating) against that float32 file, and the largest |ORT(g) - f|
 * onnxruntime shows on 100,000 points of the domain (f: the original in float64 on the same points).
 * MNIST's proofs (784 inputs: a few boxes each, every one a costly difference bound) take at most 3 bisection steps.
 * Run: node --import tsx bench/quantize.ts [points=100000] [maxBoxes=100] [steps=6]
 */
import * as ort from 'onnxruntime-node';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import { join } from 'node:path';
import { readChain } from '../src/simplify/quantize/read.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { quantOnnxBytes } from '../src/formats/onnx-quant-write.ts';
import { onnxBytes } from '../src/formats/onnx-write.ts';
import { parseOnnx } from '../src/formats/onnx-read.ts';
import { storeNetwork, type QuantSpec } from '../src/simplify/quantize/values.ts';
import { autoEpsilon } from '../src/simplify/quantize/prove.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { samplePoints, type Box } from '../src/model/box.ts';
import { forward } from '../src/model/network.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';

const points = Number(process.argv[2] ?? 100_000);
const maxBoxes = Number(process.argv[3] ?? 100);
const steps = Number(process.argv[4] ?? 6);
const LATENCY_RUNS = 500;
const LATENCY_BLOCKS = 10;

const acas = (i: number, j: number): string => join(SHARED_NETS, 'acasxu/onnx', `ACASXU_run2a_${i}_${j}_batch_2000.onnx`);
const CASES: Array<{ name: string; file: string; vnnlib: string; steps?: number }> = [
  ...[[1, 1], [2, 3], [3, 5]].map(([i, j]) => ({ name: `ACAS Xu ${i}_${j}, prop 3`, file: acas(i, j), vnnlib: join(SHARED_NETS, 'acasxu/vnnlib/prop_3.vnnlib') })),
  ...['prop_0_0.03', 'prop_1_0.05'].map((p) => ({ name: `MNIST 256x2, ${p}`, file: join(SHARED_NETS, 'mnist/onnx/mnist-net_256x2.onnx'), vnnlib: join(SHARED_NETS, `mnist/vnnlib/${p}.vnnlib`), steps: Math.min(steps, 3) })),
];
const SPECS: QuantSpec[] = [
  { to: 'int8', perChannel: true, keepFloat: [] },
  { to: 'float16', perChannel: false, keepFloat: [] },
];

type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;

/** One row of xs as the session's input (fed as float32). */
const feed = (s: Session, xs: Float64Array, i: number, n: number, shape: number[]) => ({ [s.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(xs.subarray(i * n, (i + 1) * n)), shape) });

/**
 * Microseconds per single-row run of each session, measured in alternating blocks (other work on the machine hits
 * both alike); the least block mean of each.
 */
async function latencies(sessions: Session[], xs: Float64Array, n: number, shape: number[]): Promise<number[]> {
  const count = xs.length / n;
  const best = sessions.map(() => Infinity);
  for (const s of sessions) for (let i = 0; i < 200; i++) await s.run(feed(s, xs, i % count, n, shape)); // warm-up
  for (let block = 0; block < LATENCY_BLOCKS; block++) {
    for (const [k, s] of sessions.entries()) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < LATENCY_RUNS; i++) await s.run(feed(s, xs, i % count, n, shape));
      best[k] = Math.min(best[k], Number(process.hrtime.bigint() - t0) / 1000 / LATENCY_RUNS);
    }
  }
  return best;
}

/** The largest |ORT - f| over the points. */
async function largestDifference(s: Session, xs: Float64Array, yf: Float64Array, n: number, shape: number[]): Promise<number> {
  const count = xs.length / n;
  const m = yf.length / count;
  let maxDiff = 0;
  for (let i = 0; i < count; i++) {
    const y = (await s.run(feed(s, xs, i, n, shape)))[s.outputNames[0]].data as Float32Array;
    for (let k = 0; k < m; k++) maxDiff = Math.max(maxDiff, Math.abs(y[k] - yf[i * m + k]));
  }
  return maxDiff;
}

const session = (bytes: Uint8Array): Promise<Session> => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });

await loadMilpSolver();
console.log(`| network, domain | storage | proved E (auto) | of it float32 rounding | largest found (exact) | bytes (float32) | ORT us/run (float32) | largest |ORT - f| on ${points} points | time s |`);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const c of CASES) {
  const { model } = readChain(c.file);
  const f = model.network;
  const n = f.inputSize;
  const domain: Box[] = readVnnlib(c.vnnlib).regions.map((r) => r.box);
  const xs = samplePoints(domain[0], points, mulberry32(11));
  const yf = forward(f, xs, points);
  const shape = [1, ...(model.inputShape ?? [1, n]).slice(1)];
  const save = { domain: domain[0], inputShape: model.inputShape, source: model.onnx };
  const f32 = onnxBytes(f, { ...save, precision: 'float32' });
  const base = await session(f32);
  for (const spec of SPECS) {
    const t0 = Date.now();
    const bytes = quantOnnxBytes(f, storeNetwork(f, spec), save, { ...spec });
    const g = parseOnnx(bytes, c.file).network;
    const found = autoEpsilon(f, g, domain, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 120_000, maxBoxes, seed: 1 }, c.steps ?? steps);
    const auto = 'failed' in found ? null : found;
    const secs = (Date.now() - t0) / 1000;
    const q = await session(bytes);
    const [us, baseUs] = await latencies([q, base], xs.subarray(0, 1000 * n), n, shape);
    const maxDiff = await largestDifference(q, xs, yf, n, shape);
    const e = auto ? auto.epsilon.toPrecision(4) : 'none';
    console.log(
      `| ${c.name} | ${spec.to}${spec.perChannel ? ' per channel' : ''} | ${e} | ${auto ? auto.proof.rounding.toPrecision(3) : '-'} | ${auto ? auto.proof.foundMax.toPrecision(3) : '-'} | ` +
        `${bytes.length} (${f32.length}) | ${us.toFixed(1)} (${baseUs.toFixed(1)}) | ${maxDiff.toPrecision(3)} | ${secs.toFixed(1)} |`,
    );
  }
}
