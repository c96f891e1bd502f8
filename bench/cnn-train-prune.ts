/**
 * Issue 27, benchmark 2: CNNs the project trains itself (src/demo/train/: synthetic 1x12x12 bars, crosses and
 * blobs; Conv 8 -> MaxPool -> Conv 16 -> Dense 32 -> Dense 4), per seed without a penalty and with proximal L1 or
 * group lasso, then `nnshrink prune MODEL --domain 0:1 --json` (the exact prune on the whole input domain) and
 * `nnshrink check` of its certificate as a user runs them, and onnxruntime on the pruned file against the original.
 * How many channels does a whole-domain exact prune remove, with and without an L1 term?
 * Run: node --import tsx bench/cnn-train-prune.ts [seeds=3] [epochs=8] [points=10000] [penalties=none,l1:0.003,l1:0.01,group:0.003,group:0.01]
 */
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../src/model/rng.ts';
import { makeImages } from '../src/demo/train/data.ts';
import { DEFAULT_ARCH } from '../src/demo/train/net.ts';
import { accuracy, trainCnn } from '../src/demo/train/train.ts';
import { sparsity, writeTrainedCnn } from '../src/demo/train/export.ts';
import type { Penalty } from '../src/demo/train/optim.ts';
import { ortSession } from '../test/helpers/ort.ts';

const seeds = Number(process.argv[2] ?? 3);
const epochs = Number(process.argv[3] ?? 8);
const points = Number(process.argv[4] ?? 10000);
const penalties: Penalty[] = (process.argv[5] ?? 'none,l1:0.003,l1:0.01,group:0.003,group:0.01').split(',').map((s) => {
  const [kind, lambda] = s.split(':');
  return kind === 'none' ? { kind: 'none' } : { kind: kind as 'l1' | 'group', lambda: Number(lambda) };
});
// the sources (bin/nnshrink-dev.js), so a run measures the tree as it is, not the last build
const BIN = fileURLToPath(new URL('../bin/nnshrink-dev.js', import.meta.url));
const out = fileURLToPath(new URL('./out/cnn-train-prune', import.meta.url));
mkdirSync(out, { recursive: true });
const train = makeImages(1, 2000);
const held = makeImages(2, 1000);

function cli(args: string[]): { status: number | null; stdout: string; stderr: string; s: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, s: (Date.now() - t0) / 1000 };
}

/** Points of [0, 1]^n: uniform, and (every other point) random corners, where ReLUs are pushed hardest. */
function domainPoints(n: number, k: number): Float32Array {
  const r = mulberry32(7);
  return Float32Array.from({ length: n * k }, (_, i) => (Math.floor(i / k) % 2 ? (r() < 0.5 ? 0 : 1) : r()));
}

async function ortOutputs(file: string, x: Float32Array, n: number): Promise<Float64Array> {
  const run = await ortSession(file);
  const k = x.length / n;
  const ys = new Float64Array(n * DEFAULT_ARCH.classes);
  for (let b = 0; b < n; b += 500) {
    const m = Math.min(500, n - b);
    ys.set(await run(x.subarray(b * k, (b + m) * k), [m, 1, DEFAULT_ARCH.size, DEFAULT_ARCH.size]), b * DEFAULT_ARCH.classes);
  }
  return ys;
}

const label = (p: Penalty): string => (p.kind === 'none' ? 'none' : `${p.kind} ${p.lambda}`);
const x = domainPoints(points, DEFAULT_ARCH.size * DEFAULT_ARCH.size);

async function one(p: Penalty, seed: number): Promise<string> {
  const t0 = Date.now();
  const t = trainCnn(DEFAULT_ARCH, train, { seed, epochs, penalty: p });
  const trainS = ((Date.now() - t0) / 1000).toFixed(1);
  const acc = (100 * accuracy(t.layout, t.params, held)).toFixed(1);
  const sp = sparsity(t.layout, t.params);
  const zeroW = sp.reduce((a, s) => a + s.zeroWeights, 0);
  const zeroRows = sp.filter((s) => s.layer !== 'fc2').map((s) => s.zeroRows).join('/');
  const name = `cnn-${label(p).replace(' ', '-')}-s${seed}`;
  const file = join(out, `${name}.onnx`);
  writeTrainedCnn(t.layout, t.params, file, { seed: String(seed), penalty: label(p), epochs: String(epochs) });
  const pruned = join(out, `${name}-pruned.onnx`);
  const cert = join(out, `${name}.cert.json`);
  const head = `| ${label(p)} | ${seed} | ${acc} | ${trainS} | ${zeroW} | ${zeroRows} |`;
  const pr = cli(['prune', file, '--domain', '0:1', '-o', pruned, '--certificate', cert, '--json']);
  if (pr.status !== 0) return `${head} exit ${pr.status}: ${(pr.stderr || pr.stdout).trim().split('\n')[0].slice(0, 100)} | | | | | | | |`;
  const j = JSON.parse(pr.stdout);
  const ch = (node: string): string => {
    const c = j.channels.find((n: { node: string }) => n.node === node);
    return `${c.before} -> ${c.after}`;
  };
  const ck = cli(['check', cert, '--json']);
  const verdict = ck.status === 0 ? JSON.parse(ck.stdout).check.verdict.status : `exit ${ck.status}`;
  const [ya, yb] = await Promise.all([ortOutputs(file, x, points), ortOutputs(pruned, x, points)]);
  let diff = 0;
  for (let i = 0; i < ya.length; i++) diff = Math.max(diff, Math.abs(ya[i] - yb[i]));
  const cc = j.census.channels;
  const folds = j.finalCheck.folds ? `${j.finalCheck.folds.constants} (<= ${Number(j.finalCheck.folds.bound).toExponential(1)})` : '0';
  return `${head} ${ch('conv1')} | ${ch('conv2')} | ${ch('fc1')} | ${j.parameters.before} -> ${j.parameters.after} | ${cc.never}/${cc.always}/${cc.both}/${cc.unknown} | ${folds} | ${(j.census.timeMs / 1000).toFixed(1)} / ${pr.s.toFixed(1)} | ${j.finalCheck.verdict.status}; check ${verdict} (${ck.s.toFixed(1)} s) | ${diff.toExponential(2)} |`;
}

console.log(`training: ${train.n} images, ${epochs} epochs, batch 32, SGD lr 0.05 momentum 0.9; held-out: ${held.n} images; onnxruntime on ${points} points of [0,1]^144`);
console.log('| penalty | seed | held-out acc % | train s | zero weights | zero rows conv1/conv2/fc1 | conv1 | conv2 | fc1 | parameters | census conv channels never/always/both/unknown | constant channels folded (proved max abs(f-g)) | census s / prune s | final check; check | ort max abs(f-g) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const p of penalties) for (let seed = 1; seed <= seeds; seed++) console.log(await one(p, seed));
