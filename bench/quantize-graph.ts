/**
 * Certified quantisation of graph networks (issue 30, benchmark 4): each network of the four ../shared/nets/cnn
 * benchmarks on the first ball of its instance list, stored as float16 and as int8 per channel by `quantize`
 * (the library call the command makes): the E that --epsilon auto proves (each ReLU-splitting search at most
 * MAX_NODES subproblems) with its float32 rounding part, whether --preserve-class argmax is proved, the file size
 * against the original and against the float32 file nnshrink writes of the same graph, onnxruntime's latency at
 * batch 1 (least mean of alternating blocks) against the original, and the largest |ORT(g) - ORT(f)| onnxruntime
 * shows on POINTS points of the ball (uniform and corners). Wall and CPU seconds of each quantize call.
 * Run: node --import tsx bench/quantize-graph.ts [points=10000] [timeoutS=120] [maxNodes=50] [networks=all] [targets=float16,int8pc]
 */
import * as ort from 'onnxruntime-node';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { quantize, type Quantized } from '../src/api/quantize.ts';
import { NnsError } from '../src/errors.ts';

const points = Number(process.argv[2] ?? 10_000);
const timeoutMs = Number(process.argv[3] ?? 120) * 1000;
const maxBoxes = Number(process.argv[4] ?? 50);
const only = process.argv[5] && process.argv[5] !== 'all' ? new Set(process.argv[5].split(',')) : null;
const targets = (process.argv[6] ?? 'float16,int8pc').split(',');
const LATENCY_RUNS = 100;
const LATENCY_BLOCKS = 5;
const root = join(SHARED_NETS, 'cnn');
const out = fileURLToPath(new URL('./out/quantize-graph', import.meta.url));
mkdirSync(out, { recursive: true });

/** The first instance of each network in each benchmark's list. */
function firstBalls(): Array<{ model: string; prop: string }> {
  const rows: Array<{ model: string; prop: string }> = [];
  for (const b of readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort()) {
    const list = readdirSync(join(root, b)).find((f) => f.endsWith('instances.csv'))!;
    const seen = new Set<string>();
    for (const l of readFileSync(join(root, b, list), 'utf8').trim().split('\n')) {
      const [m, p] = l.split(',').map((s) => s.trim());
      if (seen.has(m)) continue;
      seen.add(m);
      if (!only || only.has(basename(m, '.onnx'))) rows.push({ model: normalize(join(root, b, m)), prop: normalize(join(root, b, p)) });
    }
  }
  return rows;
}

type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
const session = (p: string): Promise<Session> => ort.InferenceSession.create(p, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const feed = (s: Session, x: Float32Array, shape: number[]) => ({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) });
const outOf = async (s: Session, x: Float32Array, shape: number[]): Promise<Float32Array> => (await s.run(feed(s, x, shape)))[s.outputNames[0]].data as Float32Array;

/** Points of the ball: uniform and corners alternately (fed as float32). */
function ballPoints(lo: Float64Array, hi: Float64Array, count: number): Float32Array[] {
  const rng = mulberry32(7);
  return Array.from({ length: count }, (_, k) => Float32Array.from(lo, (l, i) => (k % 2 ? (rng() < 0.5 ? l : hi[i]) : l + rng() * (hi[i] - l))));
}

/** Microseconds per batch-1 run of each session, alternating blocks; the least block mean of each. */
async function latencies(sessions: Session[], xs: Float32Array[], shape: number[]): Promise<number[]> {
  const best = sessions.map(() => Infinity);
  for (const s of sessions) for (let i = 0; i < 20; i++) await outOf(s, xs[i % xs.length], shape);
  for (let b = 0; b < LATENCY_BLOCKS; b++) {
    for (const [k, s] of sessions.entries()) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < LATENCY_RUNS; i++) await outOf(s, xs[i % xs.length], shape);
      best[k] = Math.min(best[k], Number(process.hrtime.bigint() - t0) / 1000 / LATENCY_RUNS);
    }
  }
  return best;
}

/** Runs quantize, timing wall and CPU seconds; null (and why) when not proved. */
async function timed(run: () => Promise<Quantized>): Promise<{ q: Quantized | null; why?: string; wall: number; cpu: number }> {
  const [t0, c0] = [Date.now(), process.cpuUsage()];
  let q: Quantized | null = null;
  let why: string | undefined;
  try {
    q = await run();
  } catch (e) {
    if (!(e instanceof NnsError)) throw e;
    why = e.message;
  }
  const c = process.cpuUsage(c0);
  return { q, why, wall: (Date.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

console.log(`| network | ball | storage | proved E (auto) | of it float32 rounding | class kept | bytes (original; nnshrink float32) | ORT us/run (original) | largest |ORT(g) - ORT(f)| on ${points} points | time s wall / CPU (auto; class) |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const { model, prop } of firstBalls()) {
  const domain = readVnnlib(prop).regions.map((r) => r.box);
  const base = await session(model);
  const shape = [1, ...readOnnxGraph(model).input.shape];
  const xs = ballPoints(domain[0].lo, domain[0].hi, points);
  const ref: Float32Array[] = [];
  for (const x of xs) ref.push(await outOf(base, x, shape));
  for (const t of targets) {
    const spec = t === 'int8pc' ? { to: 'int8' as const, perChannel: true } : t === 'int8' ? { to: 'int8' as const, perChannel: false } : { to: 'float16' as const, perChannel: false };
    const file = join(out, `${basename(model, '.onnx')}-${t}.onnx`);
    const common = { ...spec, domain, timeoutMs, maxBoxes };
    const auto = await timed(() => quantize(model, { ...common, tolerance: { kind: 'auto' }, output: file }));
    const cls = await timed(() => quantize(model, { ...common, tolerance: { kind: 'class', order: 'argmax', margin: 0 }, output: file.replace('.onnx', '-class.onnx') }));
    const q = auto.q ?? cls.q;
    let cells = '- | - | -';
    if (q) {
      const s = await session(auto.q ? file : file.replace('.onnx', '-class.onnx'));
      const [us, baseUs] = await latencies([s, base], xs.slice(0, 200), shape);
      let worst = 0;
      for (const [i, x] of xs.entries()) {
        const y = await outOf(s, x, shape);
        for (let k = 0; k < y.length; k++) worst = Math.max(worst, Math.abs(y[k] - ref[i][k]));
      }
      cells = `${q.sizes.bytes} (${statSync(model).size}; ${q.sizes.float32Bytes}) | ${us.toFixed(0)} (${baseUs.toFixed(0)}) | ${worst.toPrecision(3)}`;
    }
    const e = auto.q ? `${auto.q.epsilon.toPrecision(4)} | ${auto.q.proof.rounding.toPrecision(3)}` : `none (${auto.why?.slice(0, 80)}) | -`;
    console.log(`| ${basename(model)} | ${basename(prop)} | ${t} | ${e} | ${cls.q ? 'proved' : `not proved (${cls.why?.slice(0, 60)})`} | ${cells} | ${auto.wall.toFixed(1)} / ${auto.cpu.toFixed(1)}; ${cls.wall.toFixed(1)} / ${cls.cpu.toFixed(1)} |`);
  }
}
