/**
 * prune and check on a graph network through the CLI: the demo CNN with channels dead by construction (some
 * removable, one behind a residual Add that must stay), pruned exactly; the written file is ONNX of the same kind
 * (names, dynamic batch, opset) with its three batchnorms folded into their convs, onnxruntime gives the original's
 * outputs, nnshrink's own evaluation within the bound the check proves for the folds' float32 rounding;
 * `check` re-proves the certificate, and refuses or refutes edited networks, certificates and domains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRUNABLE_CNN_DEAD, PYTORCH_CNN_INPUT, pytorchCnn } from '../src/demo/cnn.ts';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { encodeGraphOnnx } from '../src/formats/onnx-graph/write.ts';
import { forwardAll, forwardGraph } from '../src/model/graph/forward.ts';
import { sha256Of } from '../src/simplify/graph/certificate.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { ortSession } from './helpers/ort.ts';
import { cliIn } from './helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-graph-prune-'));
const cnnPath = join(dir, 'cnn.onnx');
writeFileSync(cnnPath, pytorchCnn({ dead: PRUNABLE_CNN_DEAD }));
const N_IN = PYTORCH_CNN_INPUT.reduce((a, b) => a * b, 1);


const run = cliIn(dir);

/** A small ball around a point (the census proves little on the whole cube in the time a test has). */
const centre = Array.from({ length: N_IN }, (_, i) => Math.round((0.2 + 0.6 * mulberry32(11 + i)()) * 64) / 64);
const ballSpec = `${centre.map((c) => c - 0.02).join(',')}:${centre.map((c) => c + 0.02).join(',')}`;
const pruned = join(dir, 'pruned.onnx');
const cert = join(dir, 'pruned.cert.json');
const pruning = run('prune', cnnPath, '--domain', ballSpec, '-o', pruned, '--certificate', cert, '--timeout', '20', '--json');

test('prune removes the dead channels it can, keeps the one a residual Add carries on, and proves the file', async () => {
  const r = await pruning;
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const ch = Object.fromEntries(j.channels.map((n: { node: string; before: number; after: number }) => [n.node, [n.before, n.after]]));
  assert.deepEqual(ch['/conv1/Conv'], [8, 8], 'conv1 channel 0 is dead but feeds the residual Add: kept');
  assert.deepEqual(ch['/layer1.0.conv2/Conv'], [8, 8], 'its output is added to the block input: kept');
  // the planted channels go; others may be dead on this ball too
  const c = JSON.parse(readFileSync(cert, 'utf8'));
  const f = readOnnxGraph(cnnPath);
  const outOf = (node: string): string => f.nodes.find((n) => n.name === node)!.output;
  const removed = new Map<string, number[]>(c.removed.map((x: { tensor: string; channels: number[] }) => [x.tensor, x.channels]));
  for (const k of [2, 5]) assert.ok(removed.get(outOf('/layer1/layer1.0/relu/Relu'))?.includes(k), `layer1.0 channel ${k}`);
  for (const k of [3, 7, 11]) assert.ok(removed.get(outOf('/relu_2/Relu'))?.includes(k), `fc1 neuron ${k}`);
  assert.ok(!removed.has(outOf('/relu/Relu')), 'nothing of conv1 goes');
  assert.equal(ch['/layer1.0.conv1/Conv'][1], 8 - removed.get(outOf('/layer1/layer1.0/relu/Relu'))!.length);
  assert.equal(ch['/fc1/Gemm'][1], 16 - removed.get(outOf('/relu_2/Relu'))!.length);
  // every removed channel is zero at sampled points of the ball (plain evaluation, not the census)
  const rng = mulberry32(3);
  const xs = Float64Array.from({ length: 32 * N_IN }, (_, i) => centre[i % N_IN] + 0.02 * (2 * rng() - 1));
  const all = forwardAll(f, xs, 32);
  for (const [t, chs] of removed) {
    const v = all.get(t)!;
    const per = v.length / 32 / f.shapes.get(t)![0];
    for (let b = 0; b < 32; b++) for (const k of chs) for (let i = 0; i < per; i++) assert.equal(v[b * (v.length / 32) + k * per + i], 0, `${t}[${k}]`);
  }
  assert.equal(j.finalCheck.verdict.status, 'proved');
  // the batchnorms are folded: the claim is the folds' proved rounding bound, tiny against outputs of size ~1
  assert.equal(j.finalCheck.folds.batchnorms, 3);
  assert.ok(j.finalCheck.folds.bound < 1e-3, `bound ${j.finalCheck.folds.bound}`);
  assert.ok(j.finalCheck.sampling.maxAbsDiff <= j.finalCheck.folds.bound);
  assert.ok(!readOnnxGraph(pruned).nodes.some((n) => n.op === 'batchnorm'), 'no batchnorm left');
  assert.ok(j.parameters.after < j.parameters.before);
  // partly stable: channels with some but not all positions never active; on this ball conv1's and the block's
  // channels have dead borders and live centres, and none of them goes
  assert.ok(j.census.partlyStableChannels > 0, `partly stable ${j.census.partlyStableChannels}`);
});

test('the pruned file is a drop-in: same names and dynamic batch, onnxruntime gives the original outputs, nnshrink within the proved bound', async () => {
  const r = await pruning;
  assert.equal(r.code, 0);
  const bound = JSON.parse(r.out).finalCheck.folds.bound as number;
  const f = readOnnxGraph(cnnPath);
  const g = readOnnxGraph(pruned);
  assert.equal(g.input.name, f.input.name);
  assert.equal(g.output.name, f.output.name);
  assert.equal(g.input.batch, 'batch');
  assert.equal(g.opset, f.opset);
  // points of the ball, where the claim holds (the cube's corners wake the dead channels)
  const rng = mulberry32(5);
  const x = Float64Array.from({ length: 64 * N_IN }, (_, i) => Math.fround(centre[i % N_IN] + 0.02 * (2 * rng() - 1)));
  const [yf, yg] = [forwardGraph(f, x, 64), forwardGraph(g, x, 64)];
  for (let i = 0; i < yf.length; i++) assert.ok(Math.abs(yf[i] - yg[i]) <= bound + 1e-9 * (1 + Math.abs(yf[i])), `output ${i}: ${Math.abs(yf[i] - yg[i])} > ${bound}`);
  const [a, b] = await Promise.all([ortSession(cnnPath), ortSession(pruned)]);
  const ya = await a(x, [64, ...PYTORCH_CNN_INPUT]);
  const yb = await b(x, [64, ...PYTORCH_CNN_INPUT]);
  let worst = 0;
  for (let i = 0; i < ya.length; i++) worst = Math.max(worst, Math.abs(ya[i] - yb[i]) / (1 + Math.abs(ya[i])));
  assert.ok(worst < 1e-5, `onnxruntime: pruned against original ${worst}`);
});

test('check re-proves the certificate; an edited network, certificate or domain is refused or not proved', async () => {
  assert.equal((await pruning).code, 0);
  const c = JSON.parse(readFileSync(cert, 'utf8'));
  // a weight of the stored network moved, the certificate's hash updated to match: the structure no longer matches
  const g = readOnnxGraph(pruned);
  const conv = g.nodes.find((n) => n.op === 'conv' && n.name === '/layer1.0.conv2/Conv')!;
  (conv.params as { weight: { data: Float64Array } }).weight.data[3] += 0.25;
  const edited = join(dir, 'edited.onnx');
  const bytes = encodeGraphOnnx(g);
  writeFileSync(edited, bytes);
  const editedCert = join(dir, 'edited.cert.json');
  writeFileSync(editedCert, JSON.stringify({ ...c, output: { ...c.output, path: 'edited.onnx', sha256: sha256Of(bytes) } }));
  // a live channel added to the removed list (conv1's channel 1 at its ReLU): not the stored network, not zero
  const relu1 = readOnnxGraph(cnnPath).nodes.find((n) => n.name === '/relu/Relu')!.output;
  const listCert = join(dir, 'list.cert.json');
  writeFileSync(listCert, JSON.stringify({ ...c, removed: [...c.removed, { tensor: relu1, channels: [1] }] }));
  // a domain where the dead channels are alive: the facts cannot be re-proved, and samples differ
  const wideCert = join(dir, 'wide.cert.json');
  writeFileSync(wideCert, JSON.stringify({ ...c, domain: [{ lo: Array(N_IN).fill(0), hi: Array(N_IN).fill(5000) }] }));
  // the pruned file swapped for the original: not the bytes the certificate hashed
  const swapCert = join(dir, 'swap.cert.json');
  writeFileSync(swapCert, JSON.stringify({ ...c, output: { ...c.output, path: 'cnn.onnx' } }));
  const [ok, e1, e2, e3, e4] = await Promise.all([run('check', cert), run('check', editedCert), run('check', listCert), run('check', wideCert, '--timeout', '5'), run('check', swapCert)]);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^PROVED: max \|f\(x\) - g\(x\)\| <= .* 3 batchnorms into the conv/);
  assert.ok(e1.code === 1 || e1.code === 3, `edited network: ${e1.code} ${e1.out}`);
  assert.match(e1.out, /REFUTED|NOT PROVED/);
  assert.equal(e2.code, 3, e2.out + e2.err);
  assert.match(e2.out, /NOT PROVED/);
  assert.ok(e3.code === 1 || e3.code === 3, `wide domain: ${e3.code} ${e3.out}`);
  assert.equal(e4.code, 2, e4.out);
  assert.match(e4.err, /sha256 mismatch/);
});

test('prune --preserve-class on a graph: live channels go too, onnxruntime keeps every class, check re-proves it', async () => {
  const small = `${centre.map((c) => c - 0.01).join(',')}:${centre.map((c) => c + 0.01).join(',')}`;
  const out = join(dir, 'class.onnx');
  const cc = join(dir, 'class.cert.json');
  const r = await run('prune', cnnPath, '--domain', small, '--preserve-class', 'argmax', '-o', out, '--certificate', cc, '--timeout', '10', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.finalCheck.verdict.status, 'proved');
  assert.ok(j.killed > 0, 'live channels removed');
  const exact = JSON.parse((await pruning).out);
  assert.ok(j.parameters.after < exact.parameters.after, `class ${j.parameters.after} against exact ${exact.parameters.after}`);
  // onnxruntime on 500 points of the ball: the same class in the pruned file as in the original
  const rng = mulberry32(8);
  const x = Float64Array.from({ length: 500 * N_IN }, (_, i) => centre[i % N_IN] + 0.01 * (2 * rng() - 1));
  const [a, b] = await Promise.all([ortSession(cnnPath), ortSession(out)]);
  const [ya, yb] = [await a(x, [500, ...PYTORCH_CNN_INPUT]), await b(x, [500, ...PYTORCH_CNN_INPUT])];
  const argmax = (y: Float64Array, k: number): number => { let best = 0; for (let i = 1; i < 10; i++) if (y[k * 10 + i] > y[k * 10 + best]) best = i; return best; };
  for (let k = 0; k < 500; k++) assert.equal(argmax(yb, k), argmax(ya, k), `point ${k}`);
  const c = await run('check', cc);
  assert.equal(c.code, 0, c.out + c.err);
  assert.match(c.out, /^PROVED: argmax g\(x\) = argmax f\(x\)/);
});

test('prune --preserve-class where the class changes on the domain: the exact prune is written, with a note', async () => {
  const out = join(dir, 'cube.onnx');
  const r = await run('prune', cnnPath, '--domain', '0:1', '--preserve-class', 'argmax', '-o', out, '--timeout', '3', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.tolerance, { kind: 'exact' });
  assert.equal(j.killed, 0);
  assert.match(j.note, /no live channel removed .*the exact prune is written/);
  assert.equal(j.finalCheck.verdict.status, 'proved');
});

test('check refuses a malformed graph certificate in one line, exit 2, before any work', async () => {
  assert.equal((await pruning).code, 0);
  const c = JSON.parse(readFileSync(cert, 'utf8'));
  const cases: Array<[string, unknown, RegExp]> = [
    ['unknown-tensor', { ...c, removed: [{ tensor: 'nope', channels: [1] }] }, /removed\[0\]: the original has no tensor 'nope'/],
    ['channel-range', { ...c, removed: [{ tensor: c.removed[0].tensor, channels: [999] }] }, /removed\[0\]: channel 999 of/],
    ['no-removed', { ...c, removed: undefined }, /malformed certificate: .*'removed'/],
    ['domain-size', { ...c, domain: [{ lo: [0], hi: [1] }] }, /domain\[0\]\.lo has 1 values but the network has 768 inputs/],
  ];
  const runs = await Promise.all(cases.map(([name, obj]) => {
    const p = join(dir, `bad-${name}.json`);
    writeFileSync(p, JSON.stringify(obj));
    return run('check', p);
  }));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i][0]}: ${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, cases[i][2]);
  });
});

test('prune on a graph: options it does not take yet are one-line errors, nothing written', async () => {
  const out = join(dir, 'never.onnx');
  const r = await run('prune', cnnPath, '--domain', '0:1', '--max-boxes', '3', '-o', out);
  assert.equal(r.code, 2);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, /--max-boxes: a box limit \(the census has one time limit, --timeout S\) is not available on graph networks yet/);
  assert.ok(!existsSync(out));
});
