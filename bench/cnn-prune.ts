/**
 * Channel pruning on the instance balls of ../shared/nets/cnn (issue 27, benchmark 1): per instance, `nnshrink prune`
 * exact, `--preserve-class argmax` and `--epsilon E` as a user runs them (the CLI in a child process), the channels
 * and parameters before and after, the time, whether the final check proved it, then onnxruntime on the pruned file
 * against the original on N points of the ball (the largest output difference, points whose class differs; eps:
 * that difference against E). E per instance, a stated rule: 1% (or the share given) of the largest |output| of f
 * (onnxruntime) on the same N points of the ball.
 * Then `nnshrink check` of the certificate written (benchmark 3): its verdict and time.
 * Run: node --import tsx bench/cnn-prune.ts [instances per network=1] [timeoutS=10] [points=10000] [benchmarks=all]
 *      [modes=exact,class,eps] [E as a share of f's largest |output|=0.01] [instances skipped first=0]
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { SHARED_NETS } from '../test/helpers/shared.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { mulberry32 } from '../src/model/rng.ts';

const per = Number(process.argv[2] ?? 1);
const timeoutS = process.argv[3] ?? '10';
const points = Number(process.argv[4] ?? 10000);
const only = process.argv[5] && process.argv[5] !== 'all' ? new Set(process.argv[5].split(',')) : null;
type Mode = 'exact' | 'class' | 'eps';
const modes = (process.argv[6] ?? 'exact,class,eps').split(',') as Mode[];
/** E = this share of the largest |output| of f on the ball's points (default 1%) */
const EPS_SHARE = Number(process.argv[7] ?? 0.01);
/** the first instances of each network left out (an earlier run has them) */
const SKIP = Number(process.argv[8] ?? 0);
const root = join(SHARED_NETS, 'cnn');
const BIN = fileURLToPath(new URL('../bin/nnshrink-dev.js', import.meta.url));
const out = fileURLToPath(new URL('./out/cnn-prune', import.meta.url));
mkdirSync(out, { recursive: true });

/** The first `per` instances of each network in the benchmark's list, after the first SKIP. */
function instances(dir: string): Array<[string, string]> {
  const list = readdirSync(dir).find((f) => f.endsWith('instances.csv'))!;
  const seen = new Map<string, number>();
  const rows: Array<[string, string]> = [];
  for (const l of readFileSync(join(dir, list), 'utf8').trim().split('\n')) {
    const [m, p] = l.split(',').map((s) => s.trim());
    const k = seen.get(m) ?? 0;
    seen.set(m, k + 1);
    if (k >= SKIP && k < SKIP + per) rows.push([normalize(join(dir, m)), normalize(join(dir, p))]);
  }
  return rows;
}

/** Points of the property's first box: uniform and extreme corners. */
function ballPoints(prop: string, n: number): Float32Array {
  const box = readVnnlib(prop).regions[0].box;
  const rng = mulberry32(7);
  const k = box.lo.length;
  return Float32Array.from({ length: n * k }, (_, i) => {
    const j = i % k;
    const lo = box.lo[j];
    const hi = box.hi[j];
    return Math.floor(i / k) % 2 ? (rng() < 0.5 ? lo : hi) : lo + rng() * (hi - lo);
  });
}

/** onnxruntime's outputs on the n points: 100 per run, or one per run where the file fixes its batch at 1. */
async function ortOutputs(file: string, x: Float32Array, n: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file);
  const shape = (s.inputMetadata?.[0] as { shape?: Array<number | string> } | undefined)?.shape ?? [];
  const sample = shape.slice(1).map(Number);
  const rows = typeof shape[0] === 'number' ? 1 : 100;
  const k = x.length / n;
  const ys: number[] = [];
  for (let b = 0; b < n; b += rows) {
    const m = Math.min(rows, n - b);
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.subarray(b * k, (b + m) * k), [m, ...sample]) });
    ys.push(...(r[s.outputNames[0]].data as Float32Array));
  }
  return Float32Array.from(ys);
}

const argmax = (y: Float32Array, k: number, m: number): number => {
  let best = 0;
  for (let i = 1; i < m; i++) if (y[k * m + i] > y[k * m + best]) best = i;
  return best;
};

/** E for an instance: EPS_SHARE of the largest |output| of f on the points (4 significant digits, as passed). */
const epsilonFor = (ya: Float32Array): number => Number((EPS_SHARE * ya.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toPrecision(4));

async function one(model: string, prop: string, mode: Mode): Promise<string> {
  const name = `${model.split('/').pop()!.replace('.onnx', '')}-${prop.split('/').pop()!.replace('.vnnlib', '')}-${mode}`;
  const file = join(out, `${name}.onnx`);
  const x = ballPoints(prop, points);
  const ya = await ortOutputs(model, x, points);
  const eps = epsilonFor(ya);
  const tol = mode === 'class' ? ['--preserve-class', 'argmax'] : mode === 'eps' ? ['--epsilon', String(eps)] : [];
  const cert = join(out, `${name}.cert.json`);
  const args = ['prune', model, '--vnnlib', prop, '-o', file, '--certificate', cert, '--timeout', timeoutS, '--json', ...tol];
  const label = mode === 'eps' ? `eps ${eps}` : mode;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) return `${label} | exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n')[0].slice(0, 120)} | | | ${s} | | |`;
  const j = JSON.parse(r.stdout);
  const before = j.channels.reduce((a: number, c: { before: number }) => a + c.before, 0);
  const after = j.channels.reduce((a: number, c: { after: number }) => a + c.after, 0);
  const yb = await ortOutputs(file, x, points);
  const m = ya.length / points;
  let diff = 0;
  let classes = 0;
  for (let k = 0; k < points; k++) {
    for (let i = 0; i < m; i++) diff = Math.max(diff, Math.abs(ya[k * m + i] - yb[k * m + i]));
    if (argmax(ya, k, m) !== argmax(yb, k, m)) classes++;
  }
  const bound = j.search && 'bound' in j.search ? `, proved <= ${Number(j.search.bound).toExponential(2)}` : '';
  const tries = j.search ? `${j.search.attempts} attempts: ${j.search.proved} proved, ${j.search.refuted} refuted, ${j.search.unknown} open` : '';
  const search = j.search ? ` (${j.search.accepted} of ${j.search.candidates} live, ${tries}, ${j.search.ended}${bound})` : '';
  const claim = j.tolerance.kind === 'linf' ? '' : mode === 'eps' ? ` (${j.tolerance.kind} written)` : '';
  const against = mode === 'eps' ? ` (E ${eps})` : '';
  const folds = j.finalCheck.folds ? `, ${j.finalCheck.folds.constants} constant folded (<= ${Number(j.finalCheck.folds.bound).toExponential(1)})` : '';
  return `${label} | ${before} -> ${after}${search} | ${j.parameters.before} -> ${j.parameters.after} | ${j.finalCheck.verdict.status}${claim}${folds} | ${s} | ${diff.toExponential(2)}${against}, ${classes} class changes | ${check(cert, j.tolerance.kind === 'exact' ? 'exact' : mode)} |`;
}

/** `nnshrink check` of a certificate as a user runs it: its verdict and time, with the limits the prune's own final
 * check had (exact: the census's time; class and linf: ten times it). */
function check(cert: string, mode: Mode): string {
  const t0 = Date.now();
  const limit = mode === 'exact' ? Number(timeoutS) : 10 * Number(timeoutS);
  const r = spawnSync(process.execPath, [BIN, 'check', cert, '--timeout', String(limit), '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  let status = `exit ${r.status}`;
  try {
    status = JSON.parse(r.stdout).check?.verdict?.status ?? status;
  } catch {
    // not JSON: the exit code says it
  }
  return `${status} (${s} s)`;
}

console.log(`| network | property | mode | channels (conv + dense outputs) | parameters | final check | time (s) | onnxruntime on ${points} points: max |f-g|, class changes | check |`);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const b of readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
  if (only && !only.has(b)) continue;
  for (const [model, prop] of instances(join(root, b))) {
    for (const mode of modes) console.log(`| ${model.split('/').pop()} | ${prop.split('/').pop()} | ${await one(model, prop, mode)}`);
  }
}
