/**
 * verify and equiv on graph networks through the command line, as a user meets them: the demo CNNs written as ONNX
 * files, properties whose answers are known independently (an input's own class on a tiny ball; a violation seen
 * by sampling), every counterexample and witness re-evaluated here by the graph's plain forward pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mixedCnn, pytorchCnn } from '../src/demo/cnn.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import type { Graph } from '../src/model/graph/types.ts';
import { decodeModel, encodeModel } from '../src/formats/onnx-schema.ts';
import { isCounterexample, parseVnnlib } from '../src/formats/vnnlib.ts';
import { nnetText } from '../src/formats/nnet.ts';
import { forward } from '../src/model/network.ts';
import { makeBox } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { chainAsGraph } from '../src/model/graph/from-chain.ts';
import { randomNetwork } from './helpers/nets.ts';

const BIN = fileURLToPath(new URL('../bin/nnshrink-dev.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-graph-cli-'));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const cnnBytes = pytorchCnn();
const cnnPath = join(dir, 'cnn.onnx');
writeFileSync(cnnPath, cnnBytes);
const cnn = parseOnnxGraph(cnnBytes, 'cnn.onnx');
const mixedPath = join(dir, 'mixed.onnx');
writeFileSync(mixedPath, mixedCnn({ head: 'none' }));
const mixed = parseOnnxGraph(mixedCnn({ head: 'none' }), 'mixed.onnx');

/** A seeded image in [0.2, 0.8] (so small balls stay inside [0, 1]). */
function image(g: Graph, seed: number): Float64Array {
  const rng = mulberry32(seed);
  return Float64Array.from({ length: size(g.input.shape) }, () => 0.2 + 0.6 * rng());
}

const argmax = (y: Float64Array): number => y.reduce((b, v, i) => (v > y[b] ? i : b), 0);

/** VNN-LIB text: a box on the inputs and the unsafe condition as given (asserts over Y). */
function vnnlib(lo: ArrayLike<number>, hi: ArrayLike<number>, nOut: number, unsafe: string): string {
  const decl = [...Array.from(lo, (_, i) => `(declare-const X_${i} Real)`), ...Array.from({ length: nOut }, (_, j) => `(declare-const Y_${j} Real)`)];
  const box = Array.from(lo, (v, i) => `(assert (>= X_${i} ${v}))\n(assert (<= X_${i} ${hi[i]}))`);
  return `${decl.join('\n')}\n${box.join('\n')}\n${unsafe}\n`;
}

/** Robustness of x's class on the L-inf ball of radius eps: unsafe when another class scores at least as high. */
function robustness(g: Graph, x: Float64Array, eps: number, name: string): string {
  const c = argmax(forwardGraph(g, x));
  const nOut = size(g.output.shape);
  const others = Array.from({ length: nOut }, (_, j) => j).filter((j) => j !== c);
  const text = vnnlib(x.map((v) => v - eps), x.map((v) => v + eps), nOut, `(assert (or\n${others.map((j) => `  (and (>= Y_${j} Y_${c}))`).join('\n')}\n))`);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * A property shown violated independently of the verifier: the runner-up j of x's class c, the gradient of
 * y_j - y_c by central differences, and the smallest of a few radii at which the signed step x + eps sign(grad)
 * makes j win; the property is the ball of that radius with the unsafe condition y_j >= y_c (x itself is safe).
 */
function violated(g: Graph, x: Float64Array, name: string): { path: string; eps: number } {
  const y0 = forwardGraph(g, x);
  const c = argmax(y0);
  const j = argmax(y0.map((v, k) => (k === c ? -Infinity : v)));
  const h = 1e-4;
  const sign = x.map((_, i) => {
    const at = (d: number): number => {
      const y = forwardGraph(g, x.map((v, k) => (k === i ? v + d : v)));
      return y[j] - y[c];
    };
    return Math.sign(at(h) - at(-h));
  });
  const eps = [0.02, 0.05, 0.1, 0.2].find((e) => {
    const y = forwardGraph(g, x.map((v, i) => v + e * sign[i]));
    return y[j] > y[c];
  });
  assert.ok(eps !== undefined, 'a signed gradient step makes another class win (the test needs a violated property)');
  const path = join(dir, name);
  writeFileSync(path, vnnlib(x.map((v) => v - eps), x.map((v) => v + eps), size(g.output.shape), `(assert (>= Y_${j} Y_${c}))`));
  return { path, eps };
}

/** The VNN-COMP result file's counterexample: X_i and Y_j in index order. */
function resultVars(text: string): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (const m of text.matchAll(/\((X|Y)_(\d+) ([^)\s]+)\)/g)) (m[1] === 'X' ? x : y)[Number(m[2])] = Number(m[3]);
  return { x, y };
}

const x0 = image(cnn, 3);
const proved = robustness(cnn, x0, 1e-4, 'robust.vnnlib');
const viol = violated(cnn, x0, 'violated.vnnlib');

test('verify on a CNN: a tiny ball keeps its class (unsat, exit 0); a violated property is sat (exit 1) with a counterexample that re-evaluates', () => {
  const u = run('verify', cnnPath, proved, '--timeout', '30');
  assert.equal(u.code, 0, u.err);
  assert.equal(u.out, 'unsat\n');
  const res = join(dir, 'sat.txt');
  const s = run('verify', cnnPath, viol.path, '--timeout', '30', '--results', res, '--json');
  assert.equal(s.code, 1, s.err);
  const j = JSON.parse(s.out);
  assert.equal(j.result, 'sat');
  const text = readFileSync(res, 'utf8');
  assert.match(text, /^sat\n\(\(X_0 /);
  const { x, y } = resultVars(text);
  assert.equal(x.length, 768);
  assert.equal(y.length, 10);
  assert.deepEqual(x, j.counterexample.x);
  // plain evaluation of the file's x gives the file's y, and it violates the property (inside its box)
  const fy = forwardGraph(cnn, Float64Array.from(x));
  fy.forEach((v, k) => assert.ok(Math.abs(v - y[k]) <= 1e-9 * (1 + Math.abs(v)), `Y_${k}`));
  assert.ok(isCounterexample(parseVnnlib(readFileSync(viol.path, 'utf8'), 'v'), x, fy, 0));
});

test('verify on a CNN: a property of another size is refused in one line naming the flattened shape; a tiny time limit is unknown (exit 3)', () => {
  const small = join(dir, 'small.vnnlib');
  writeFileSync(small, vnnlib([0, 0], [1, 1], 10, '(assert (>= Y_0 Y_1))'));
  const r = run('verify', cnnPath, small);
  assert.equal(r.code, 2);
  assert.match(r.err, /^nnshrink: error: .*small\.vnnlib: the property has 2 inputs but the network has 768 \(its input \[3, 16, 16\] flattened\)\n$/);
  // a wide ball with no violation at sampled points, decided in no time: unknown (timeout), never proved
  const wide = robustness(cnn, x0, 0.05, 'wide.vnnlib');
  const t = run('verify', cnnPath, wide, '--timeout', '0.01', '--json');
  assert.equal(t.code, 3, t.err);
  assert.equal(JSON.parse(t.out).result, 'unknown');
});

test('verify --instances on CNNs: side by side, the same verdicts on one or two threads, VNN-COMP result files', () => {
  const xm = image(mixed, 5);
  const list = join(dir, 'cnn-instances.csv');
  writeFileSync(list, `cnn.onnx,robust.vnnlib,30\ncnn.onnx,violated.vnnlib,30\nmixed.onnx,${robustness(mixed, xm, 1e-4, 'mixed-robust.vnnlib').split('/').pop()},30\n`);
  const verdicts: string[][] = [];
  for (const jobs of ['1', '2']) {
    const rd = mkdtempSync(join(dir, `results-${jobs}-`));
    const r = run('verify', '--instances', list, '--jobs', jobs, '--results-dir', rd, ...(jobs === '2' ? ['--json'] : []));
    assert.equal(r.code, 0, r.err);
    if (jobs === '2') verdicts.push((JSON.parse(r.out) as Array<{ result: string }>).map((x) => x.result));
    else {
      // the table: one row per instance, then the tally
      verdicts.push(Array.from(r.out.matchAll(/^\| \S+ \| \S+ \| (\w+) \| [\d.]+ \|$/gm), (m) => m[1]));
      assert.match(r.out, /\| cnn \| robust \| unsat \|/);
      assert.match(r.out, /3 instances: 1 sat, 2 unsat, 0 unknown\n$/);
    }
    assert.deepEqual(readdirSync(rd).sort(), ['cnn_robust.txt', 'cnn_violated.txt', 'mixed_mixed-robust.txt']);
    assert.equal(readFileSync(join(rd, 'cnn_robust.txt'), 'utf8'), 'unsat\n');
    const { x } = resultVars(readFileSync(join(rd, 'cnn_violated.txt'), 'utf8'));
    assert.ok(isCounterexample(parseVnnlib(readFileSync(viol.path, 'utf8'), 'v'), x, forwardGraph(cnn, Float64Array.from(x)), 0));
  }
  assert.deepEqual(verdicts[0], ['unsat', 'sat', 'unsat']);
  assert.deepEqual(verdicts[1], verdicts[0]);
  // a row whose property does not fit its graph fails before any search, naming the line
  writeFileSync(list, 'cnn.onnx,robust.vnnlib\nmixed.onnx,robust.vnnlib\n');
  const bad = run('verify', '--instances', list);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /cnn-instances\.csv:2: .*robust\.vnnlib: the property has 768 inputs but the network has 576/);
});

/** pytorchCnn with fc2's bias of output `k` moved by `delta`: B - A is exactly delta on output k, everywhere. */
function perturbed(k: number, delta: number): Uint8Array {
  const m = decodeModel(cnnBytes);
  const t = m.graph!.initializer!.find((i) => i.name === 'fc2.bias')!;
  const v = new Float32Array(Uint8Array.from(t.raw_data!).buffer);
  v[k] += delta;
  t.raw_data = new Uint8Array(v.buffer);
  return encodeModel(m);
}

test('equiv on CNNs: a CNN against itself is proved, against a perturbed copy refuted at a small epsilon with a witness that re-evaluates', () => {
  const ball = robustness(cnn, x0, 0.01, 'ball.vnnlib');
  const self = run('equiv', cnnPath, cnnPath, '--vnnlib', ball, '--epsilon', '1e-6', '--timeout', '30');
  assert.equal(self.code, 0, self.err);
  assert.match(self.out, /^proved/);
  const other = join(dir, 'cnn-perturbed.onnx');
  writeFileSync(other, perturbed(3, 0.01));
  const b = parseOnnxGraph(readFileSync(other), 'b');
  const delta = Math.abs(forwardGraph(b, x0)[3] - forwardGraph(cnn, x0)[3]);
  const r = run('equiv', cnnPath, other, '--vnnlib', ball, '--epsilon', '0.001', '--timeout', '30', '--json');
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.result, 'refuted');
  const w = Float64Array.from(j.witness as number[]);
  assert.ok(w.every((v, i) => Math.abs(v - x0[i]) <= 0.01 + 1e-12), 'the witness is in the ball');
  const diff = forwardGraph(cnn, w).reduce((m, v, i) => Math.max(m, Math.abs(v - forwardGraph(b, w)[i])), 0);
  assert.ok(diff > 0.001, `|A-B| at the witness: ${diff}`);
  // the difference is the bias shift (0.01 on one output): twice that is proved by the diff method; the product
  // method (f - g as one graph, no pairing) is looser, but its proved bound (--epsilon 0) is at least what it found
  const d = run('equiv', cnnPath, other, '--vnnlib', ball, '--epsilon', String(2 * delta), '--method', 'diff', '--timeout', '30');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /^proved: proved max \|A-B\| <= [\d.e-]+, largest found [\d.e-]+  \[graph-diff, /);
  const p = JSON.parse(run('equiv', cnnPath, other, '--vnnlib', ball, '--epsilon', '0', '--method', 'product', '--timeout', '10', '--json').out);
  assert.equal(p.method, 'graph-product');
  assert.ok(Number.isFinite(p.provedMaxDiff) && p.provedMaxDiff >= delta * (1 - 1e-9) && p.foundMaxDiff <= p.provedMaxDiff, JSON.stringify(p));
  const cls = run('equiv', cnnPath, cnnPath, '--vnnlib', proved, '--same-class', 'argmax', '--margin', '0.001', '--timeout', '30');
  assert.equal(cls.code, 0, cls.err);
});

test('equiv on graphs: bad combinations are refused in one line; a chain beside a graph is its layers as a graph', () => {
  const chain = randomNetwork(5, [6, 8, 3]);
  const nnet = join(dir, 'chain.nnet');
  writeFileSync(nnet, nnetText(chain, { domain: makeBox(new Array(6).fill(-1), new Array(6).fill(1)) }));
  const sizes = run('equiv', cnnPath, nnet, '--epsilon', '0.1');
  assert.equal(sizes.code, 2);
  assert.match(sizes.err, /^nnshrink: error: equiv: .*cnn\.onnx takes 768 inputs, .*chain\.nnet takes 6\n$/);
  const cert = run('equiv', cnnPath, cnnPath, '--epsilon', '0.1', '--method', 'certificate', '--domain', '0:1');
  assert.equal(cert.code, 2);
  assert.match(cert.err, /--method certificate: a certificate pairs chains/);
  // the converter computes the chain's function, on an image-shaped input too
  const g = chainAsGraph(chain, [1, 2, 3], [3], 'chain');
  const rng = mulberry32(2);
  for (let s = 0; s < 20; s++) {
    const x = Float64Array.from({ length: 6 }, () => 2 * rng() - 1);
    const a = forward(chain, x, 1);
    forwardGraph(g, x).forEach((v, i) => assert.ok(Math.abs(v - a[i]) <= 1e-12 * (1 + Math.abs(v))));
  }
});

test('a chain network keeps the chain verifier', () => {
  const chain = randomNetwork(9, [4, 10, 2]);
  const nnet = join(dir, 'fc.nnet');
  writeFileSync(nnet, nnetText(chain, { domain: makeBox(new Array(4).fill(-1), new Array(4).fill(1)) }));
  const p = join(dir, 'fc.vnnlib');
  writeFileSync(p, vnnlib([-1, -1, -1, -1], [1, 1, 1, 1], 2, '(assert (>= Y_0 1000000))'));
  const r = run('verify', nnet, p, '--timeout', '10');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'unsat\n');
  // the chain's effort line counts input-splitting boxes, the graph's counts nodes
  assert.match(r.err, /\(\d+ box(es)?, /);
  assert.equal(run('equiv', nnet, nnet, '--epsilon', '0', '--json').code, 0);
});
