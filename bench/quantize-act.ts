/**
 * Quantised activations (issue 30, benchmark 2 extended): int8 per-channel weights with int8 (uint8 QDQ) activations
 * on ACAS Xu (the VNN-COMP ONNX files, normalised units, property 3 box; the three networks of bench/quantize.ts) and
 * MNIST 256x2 on a VNN-COMP ball. Per case: the smallest E that --epsilon auto proves (each proof at most MAX_BOXES
 * boxes) with the part of it that is float32 rounding plus the stored activations' errors; MNIST also the class claim
 * (argmax kept on the ball); the file size against the float32 file; onnxruntime's latency at batch 1 and batch 1000
 * against the float32 file and the int8-weights-only file (the least mean of alternating blocks); and the largest
 * |ORT(g) - f| on `points` points (f: the original in float64). All files are written with a batch dimension of any
 * size (no source names), so the three run the same batches. Times: wall and this process's CPU.
 * Run: node --import tsx bench/quantize-act.ts [points=100000] [maxBoxes=100] [steps=6]
 */
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import { readChain } from '../src/simplify/quantize/read.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { quantOnnxBytes } from '../src/formats/onnx-quant-write.ts';
import { parseOnnx } from '../src/formats/onnx-read.ts';
import { storeNetwork, type QuantSpec } from '../src/simplify/quantize/values.ts';
import { calibrateScheme } from '../src/simplify/quantize/activations.ts';
import { readStoredActivations } from '../src/simplify/quantize/read-act.ts';
import { autoEpsilon, proveQuantizedClass, type ProveOptions } from '../src/simplify/quantize/prove.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { samplePoints, type Box } from '../src/model/box.ts';
import { forward, type Network } from '../src/model/network.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';

const points = Number(process.argv[2] ?? 100_000);
const maxBoxes = Number(process.argv[3] ?? 100);
const steps = Number(process.argv[4] ?? 6);
const BLOCKS = 8;

const acas = (i: number, j: number): string => join(SHARED_NETS, 'acasxu/onnx', `ACASXU_run2a_${i}_${j}_batch_2000.onnx`);
const CASES: Array<{ name: string; file: string; vnnlib: string; steps: number; cls?: boolean }> = [
  ...[[1, 1], [2, 3], [3, 5]].map(([i, j]) => ({ name: `ACAS Xu ${i}_${j}, prop 3`, file: acas(i, j), vnnlib: join(SHARED_NETS, 'acasxu/vnnlib/prop_3.vnnlib'), steps })),
  { name: 'MNIST 256x2, prop_0_0.03', file: join(SHARED_NETS, 'mnist/onnx/mnist-net_256x2.onnx'), vnnlib: join(SHARED_NETS, 'mnist/vnnlib/prop_0_0.03.vnnlib'), steps: Math.min(steps, 3), cls: true },
];
const INT8: QuantSpec = { to: 'int8', perChannel: true, keepFloat: [] };

type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
const session = (bytes: Uint8Array): Promise<Session> => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const feed = (s: Session, xs: Float64Array, from: number, rows: number, n: number) => ({ [s.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(xs.subarray(from * n, (from + rows) * n)), [rows, n]) });

/** Microseconds per run of `rows` rows for each session: alternating blocks, the least block mean of each. */
async function latencies(sessions: Session[], xs: Float64Array, n: number, rows: number, runs: number): Promise<number[]> {
  const count = xs.length / n;
  const best = sessions.map(() => Infinity);
  for (const s of sessions) for (let i = 0; i < 20; i++) await s.run(feed(s, xs, 0, rows, n));
  for (let b = 0; b < BLOCKS; b++) {
    for (const [k, s] of sessions.entries()) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) await s.run(feed(s, xs, rows === 1 ? i % count : 0, rows, n));
      best[k] = Math.min(best[k], Number(process.hrtime.bigint() - t0) / 1000 / runs);
    }
  }
  return best;
}

/** The largest |ORT - f| over the points, run 1000 rows at a time. */
async function largestDifference(s: Session, xs: Float64Array, yf: Float64Array, n: number): Promise<number> {
  const count = xs.length / n;
  const m = yf.length / count;
  let worst = 0;
  for (let i = 0; i < count; i += 1000) {
    const rows = Math.min(1000, count - i);
    const y = (await s.run(feed(s, xs, i, rows, n)))[s.outputNames[0]].data as Float32Array;
    for (let k = 0; k < rows * m; k++) worst = Math.max(worst, Math.abs(y[k] - yf[i * m + k]));
  }
  return worst;
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

await loadMilpSolver();
console.log(`| network, domain | proved E (auto) | of it rounding + activations | largest found (exact) | class kept | bytes (float32) | ORT us batch 1: act int8 / weights int8 / float32 | ORT us batch 1000: same | largest \\|ORT - f\\| on ${points} points | time s (CPU s) |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const c of CASES) {
  const f: Network = readChain(c.file).model.network;
  const n = f.inputSize;
  const domain: Box[] = readVnnlib(c.vnnlib).regions.map((r) => r.box);
  const xs = samplePoints(domain[0], points, mulberry32(11));
  const yf = forward(f, xs, points);
  const save = { domain: domain[0] };
  const stored = storeNetwork(f, INT8);
  const f32 = quantOnnxBytes(f, storeNetwork(f, { ...INT8, keepFloat: f.layers.map((_, k) => k) }), save, {});
  const weightsOnly = quantOnnxBytes(f, stored, save, {});
  const t0 = Date.now();
  const c0 = cpuSeconds();
  const act = calibrateScheme(parseOnnx(weightsOnly, c.file).network, domain, 'int8', []);
  const bytes = quantOnnxBytes(f, stored, save, { activations: 'int8' }, act);
  // the proof takes the file as read back: its scales, and the bias step of onnxruntime's fused integer kernel
  const back = readStoredActivations(bytes, c.file)!;
  const g = back.model.network;
  const opts: ProveOptions = { boundsFn: crownBounds, outputLinearLower, timeoutMs: 600_000, maxBoxes, seed: 1, act: back.act };
  const found = autoEpsilon(f, g, domain, opts, c.steps);
  const auto = 'failed' in found ? null : found;
  const cls = c.cls ? proveQuantizedClass(f, g, domain, 'argmax', 0, opts).status : '-';
  const secs = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  const sessions = await Promise.all([bytes, weightsOnly, f32].map(session));
  const one = await latencies(sessions, xs.subarray(0, 1000 * n), n, 1, 300);
  const many = await latencies(sessions, xs.subarray(0, 1000 * n), n, 1000, 10);
  const worst = await largestDifference(sessions[0], xs, yf, n);
  const us = (v: number[]): string => v.map((u) => u.toFixed(1)).join(' / ');
  console.log(
    `| ${c.name} | ${auto ? auto.epsilon.toPrecision(4) : 'none'} | ${auto ? auto.proof.rounding.toPrecision(3) : '-'} | ${auto ? auto.proof.foundMax.toPrecision(3) : '-'} | ${cls} | ` +
      `${bytes.length} (${f32.length}) | ${us(one)} | ${us(many)} | ${worst.toPrecision(3)} | ${secs.toFixed(1)} (${cpu.toFixed(1)}) |`,
  );
}
