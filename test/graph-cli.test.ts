/**
 * info, eval and bounds (every method, --census) on graph networks through the CLI: the demo CNN written to a temp
 * dir, evaluated against onnxruntime, bounds against sampled evaluations; a chain ONNX keeps the chain path; bad
 * input (an unsupported operator) is one line, exit 2; a refused bound (a divisor around 0) exit 3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pytorchCnn } from '../src/demo/cnn.ts';
import { parseOnnxGraph, readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { forwardAll, forwardGraph } from '../src/model/graph/forward.ts';
import { graphToChain } from '../src/model/graph/chain.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { forward } from '../src/model/network.ts';
import { modelBytes, parseAnyOnnx } from '../src/formats/load.ts';
import { parseOnnx } from '../src/formats/onnx-read.ts';
import { NnsError } from '../src/errors.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { floatTensor, int64Tensor, valueInfo } from '../src/formats/onnx-write.ts';
import { ATTR_INT, ATTR_INTS, encodeModel, ONNX_FLOAT, type ONode, type OTensor } from '../src/formats/onnx-schema.ts';
import { randomNetwork } from './helpers/nets.ts';
import { ortRun } from './helpers/ort.ts';
import { cliIn, type SimpleRun } from './helpers/run-cli.ts';
import { SKIP_SHARED, sharedPath } from './helpers/shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-graph-cli-'));
const cnnPath = join(dir, 'cnn.onnx');
writeFileSync(cnnPath, pytorchCnn());
const cnn = readOnnxGraph(cnnPath);
const N_IN = 3 * 16 * 16;

type Run = SimpleRun;
const run = cliIn(dir);

function json(r: Run): any {
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
}

function oneLineError(r: Run, code: number, re: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.err})`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0], re);
  assert.ok(!/\bat .*:\d+:\d+/.test(r.err), 'no stack trace');
}

/** A box [c - r, c + r] per input, with float32-exact ends (the CLI reads decimals; onnxruntime takes float32). */
function ball(seed: number, r: number): { lo: number[]; hi: number[]; spec: string } {
  const rng = mulberry32(seed);
  const c = Array.from({ length: N_IN }, () => Math.round(rng() * 64) / 64);
  const lo = c.map((v) => v - r);
  const hi = c.map((v) => v + r);
  return { lo, hi, spec: `${lo.join(',')}:${hi.join(',')}` };
}

/** Points of the box: random corners (extreme) and uniform points. */
function samples(lo: number[], hi: number[], count: number, seed: number): Float64Array[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, (_, k) => Float64Array.from(lo, (l, i) => (k % 2 ? (rng() < 0.5 ? l : hi[i]) : l + rng() * (hi[i] - l))));
}

test('info on the demo CNN: operators, shapes with the dynamic batch, parameters, ReLU neurons and channels, opset', async () => {
  const [j, t] = await Promise.all([run('info', cnnPath, '--json'), run('info', cnnPath)]);
  const info = json(j);
  assert.equal(info.kind, 'graph');
  assert.deepEqual(info.input.shape, [3, 16, 16]);
  assert.equal(info.input.batch, 'batch');
  assert.deepEqual(info.output.shape, [10]);
  assert.equal(info.opset, 17);
  assert.deepEqual(info.operators, { conv: 3, batchnorm: 3, relu: 4, maxpool: 1, add: 1, averagepool: 1, reshape: 1, dense: 2 });
  // conv 3->8 k3 (224), bn (16), two convs 8->8 k3 (584 each) with bn (16 each), dense 128->16 (2064), 16->10 (170)
  assert.equal(info.parameters, 224 + 16 + 584 + 16 + 584 + 16 + 2064 + 170);
  // relu outputs [8,16,16], [8,8,8] twice, [16]
  assert.equal(info.reluNeurons, 2048 + 512 + 512 + 16);
  assert.equal(info.reluChannels, 8 + 8 + 8 + 16);
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /input 'input' \[batch \(dynamic\), 3, 16, 16\] \(768 values\)/);
  assert.match(t.out, /ReLU neurons 3088 in 40 channels/);
});

test('eval on the demo CNN matches onnxruntime within 1e-5, one input or a CSV of many', async () => {
  const xs = samples(ball(3, 0.5).lo, ball(3, 0.5).hi, 5, 4).map((x) => Array.from(x, (v) => Math.fround(v)));
  const csv = join(dir, 'inputs.csv');
  writeFileSync(csv, xs.map((x) => x.join(',')).join('\n') + '\n');
  const [many, text] = await Promise.all([run('eval', cnnPath, '--input-file', csv, '--json'), run('eval', cnnPath, '--input', xs[0].join(','))]);
  const ref = await ortRun(cnnPath, xs.flat(), [xs.length, 3, 16, 16]);
  const rows = json(many);
  assert.equal(rows.length, xs.length);
  rows.forEach((r: { output: number[] }, b: number) => r.output.forEach((v, i) => assert.ok(Math.abs(v - ref[b * 10 + i]) <= 1e-5, `sample ${b} output ${i}: ${v} vs ${ref[b * 10 + i]}`)));
  assert.equal(text.code, 0, text.err);
  assert.deepEqual(text.out.trim().split(', ').map(Number), rows[0].output);
  oneLineError(await run('eval', cnnPath, '--input', '1,2,3'), 2, /input 1 has 3 values but .*cnn\.onnx takes 768 \(its input \[3, 16, 16\] flattened/);
});

test('bounds --method interval | crown | alpha contain the outputs of sampled inputs, each at least as tight as the one before', async () => {
  const b = ball(5, 1 / 32);
  const rs = await Promise.all(['interval', 'crown', 'alpha'].map((m) => run('bounds', cnnPath, '--domain', b.spec, '--method', m, '--json')));
  const [iv, cr, al] = rs.map(json);
  const pts = samples(b.lo, b.hi, 300, 6);
  const batch = new Float64Array(pts.length * N_IN);
  pts.forEach((x, k) => batch.set(x, k * N_IN));
  const vals = forwardAll(cnn, batch, pts.length);
  const y = vals.get(cnn.output.name)!;
  for (const r of [iv, cr, al]) {
    for (let k = 0; k < pts.length; k++) {
      for (let i = 0; i < 10; i++) assert.ok(r.output.lo[i] <= y[k * 10 + i] && y[k * 10 + i] <= r.output.hi[i], `${r.method}: sample ${k} output ${i}`);
    }
    // a neuron seen on both sides of 0 can never be counted stable
    for (const a of r.activations) {
      const node = cnn.nodes.find((n) => n.name === a.node)!;
      const v = vals.get(node.inputs[0])!;
      const n = a.neurons;
      let both = 0;
      for (let i = 0; i < n; i++) {
        let pos = false;
        let neg = false;
        for (let k = 0; k < pts.length; k++) (v[k * n + i] > 0 ? (pos = true) : v[k * n + i] < 0 && (neg = true));
        if (pos && neg) both++;
      }
      assert.equal(a.inactive + a.active + a.unstable, n);
      assert.ok(a.unstable >= both, `${r.method} ${a.node}: ${a.unstable} unstable but ${both} seen on both sides`);
    }
  }
  const width = (r: any): number => r.output.hi.reduce((s: number, h: number, i: number) => s + h - r.output.lo[i], 0);
  assert.ok(width(cr) < width(iv), `crown ${width(cr)} vs interval ${width(iv)}`);
  for (let i = 0; i < 10; i++) assert.ok(al.output.lo[i] >= cr.output.lo[i] && al.output.hi[i] <= cr.output.hi[i], `alpha within crown at output ${i}`);
  const unstable = (r: any): number => r.activations.reduce((s: number, a: any) => s + a.unstable, 0);
  assert.ok(unstable(cr) <= unstable(iv));
  oneLineError(await run('bounds', cnnPath, '--domain', b.spec, '--method', 'symbolic'), 2, /--method symbolic: .*graph network \(use interval, crown or alpha\)/);
});

test('bounds --census on the demo CNN: per ReLU layer never / always / both / unknown, agreeing with sampled evaluations', async () => {
  const b = ball(8, 1 / 32);
  const [j, t] = await Promise.all([run('bounds', cnnPath, '--domain', b.spec, '--census', '--timeout', '3', '--json'), run('bounds', cnnPath, '--domain', b.spec, '--census', '--timeout', '1')]);
  const c = json(j);
  assert.equal(c.layers.length, 4);
  const pts = samples(b.lo, b.hi, 200, 9);
  const batch = new Float64Array(pts.length * N_IN);
  pts.forEach((x, k) => batch.set(x, k * N_IN));
  const vals = forwardAll(cnn, batch, pts.length);
  let total = 0;
  for (const L of c.layers) {
    const node = cnn.nodes.find((n) => n.name === L.node)!;
    const v = vals.get(node.inputs[0])!;
    const n = L.neurons;
    total += n;
    assert.equal(L.counts.never + L.counts.always + L.counts.both + L.counts.unknown, n);
    for (const i of L.never) for (let k = 0; k < pts.length; k++) assert.ok(v[k * n + i] <= 0, `${L.node} ${i} proved never active, but active at a sample`);
    for (const i of L.always) for (let k = 0; k < pts.length; k++) assert.ok(v[k * n + i] >= 0, `${L.node} ${i} proved always active, but inactive at a sample`);
    if (L.shape.length === 3) assert.equal(L.channels.phases.length, L.shape[0]);
  }
  assert.equal(c.counts.never + c.counts.always + c.counts.both + c.counts.unknown, total);
  assert.ok(c.counts.both > 0 && c.counts.never + c.counts.always > 0, JSON.stringify(c.counts));
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /^\/relu\/Relu \(relu\) input \[8, 16, 16\]: 2048 neurons: never active \d+, always active \d+, both \d+, unknown \d+; 8 channels: /m);
  assert.match(t.out, /^all: neurons never active \d+/m);
  assert.match(t.out, /^all: channels never active \d+/m);
});

test('a chain ONNX keeps the chain path; an FC graph the chain reader refuses (a Shape-chain flatten) becomes a chain', async () => {
  const net = randomNetwork(11, [4, 6, 5, 3]);
  const p = join(dir, 'chain.onnx');
  writeFileSync(p, modelBytes(net, 'onnx'));
  const [i, e] = await Promise.all([run('info', p, '--json'), run('eval', p, '--input', '0.1,-0.2,0.3,0.4', '--json')]);
  const info = json(i);
  assert.equal(info.kind, undefined);
  assert.deepEqual(info.layers.map((l: { out: number }) => l.out), [6, 5, 3]);
  assert.deepEqual(json(e)[0].output, Array.from(forward(parseOnnx(modelBytes(net, 'onnx') as Uint8Array, p).network, Float64Array.from([0.1, -0.2, 0.3, 0.4]))));

  const bytes = shapeChainFc();
  assert.throws(() => parseOnnx(bytes, 'fc.onnx'), NnsError);
  const any = parseAnyOnnx(bytes, 'fc.onnx');
  assert.equal(any.kind, 'chain');
  const g = parseOnnxGraph(bytes, 'fc.onnx');
  const x = Float64Array.from([0.3, -0.7, 0.2, 0.9]);
  if (any.kind === 'chain') assert.deepEqual(Array.from(forward(any.model.network, x)), Array.from(forward(graphToChain(g), x)));
  const ref = forwardGraph(g, x);
  if (any.kind === 'chain') forward(any.model.network, x).forEach((v, k) => assert.ok(Math.abs(v - ref[k]) < 1e-12));
});

/** x [batch, 2, 2] -> x.view(x.size(0), -1) as exporters write it -> Gemm -> Relu -> Gemm. */
function shapeChainFc(): Uint8Array {
  const rng = mulberry32(12);
  const f = (name: string, dims: number[]): OTensor => floatTensor(name, dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng() - 0.5), 'float32');
  const nodes: ONode[] = [
    { op_type: 'Shape', name: '/Shape', input: ['x'], output: ['s'] },
    { op_type: 'Gather', name: '/Gather', input: ['s', 'i0'], output: ['g'], attribute: [{ name: 'axis', i: 0, type: ATTR_INT }] },
    { op_type: 'Unsqueeze', name: '/Unsqueeze', input: ['g', 'ax'], output: ['u'] },
    { op_type: 'Concat', name: '/Concat', input: ['u', 'm1'], output: ['c'], attribute: [{ name: 'axis', i: 0, type: ATTR_INT }] },
    { op_type: 'Reshape', name: '/Reshape', input: ['x', 'c'], output: ['f'] },
    { op_type: 'Gemm', name: '/fc1/Gemm', input: ['f', 'w1', 'b1'], output: ['h'], attribute: [{ name: 'transB', i: 1, type: ATTR_INT }] },
    { op_type: 'Relu', name: '/Relu', input: ['h'], output: ['r'] },
    { op_type: 'Gemm', name: '/fc2/Gemm', input: ['r', 'w2', 'b2'], output: ['y'], attribute: [{ name: 'transB', i: 1, type: ATTR_INT }] },
  ];
  const inits = [int64Tensor('i0', [], [0]), int64Tensor('ax', [1], [0]), int64Tensor('m1', [1], [-1]), f('w1', [5, 4]), f('b1', [5]), f('w2', [3, 5]), f('b2', [3])];
  const input = valueInfo('x', ONNX_FLOAT, [1, 2, 2]);
  input.type!.tensor_type!.shape!.dim![0] = { dim_param: 'batch' };
  return encodeModel({ ir_version: 8, graph: { name: 'g', node: nodes, initializer: inits, input: [input], output: [valueInfo('y', ONNX_FLOAT, [])] }, opset_import: [{ domain: '', version: 13 }] });
}

/** x [batch, 1, 2, 2] -> Conv 1x1 (h = 2x + 0.5: a graph, not a chain) -> the tail -> y. */
function tinyGraph(...tail: ONode[]): Uint8Array {
  const nodes: ONode[] = [{ op_type: 'Conv', name: '/conv/Conv', input: ['x', 'w', 'b'], output: ['h'], attribute: [{ name: 'kernel_shape', ints: [1, 1], type: ATTR_INTS }] }, ...tail];
  const inits = [floatTensor('w', [1, 1, 1, 1], [2], 'float32'), floatTensor('b', [1], [0.5], 'float32')];
  return encodeModel({ ir_version: 8, graph: { name: 'g', node: nodes, initializer: inits, input: [valueInfo('x', ONNX_FLOAT, [1, 1, 2, 2])], output: [valueInfo('y', ONNX_FLOAT, [])] }, opset_import: [{ domain: '', version: 13 }] });
}

test('an unsupported operator: one line naming the file, node and operator, exit 2; a divisor around 0: one line, exit 3', async () => {
  const bad = join(dir, 'erf.onnx');
  writeFileSync(bad, tinyGraph({ op_type: 'Erf', name: '/act/Erf', input: ['h'], output: ['y'] }));
  const div = join(dir, 'div.onnx');
  writeFileSync(div, tinyGraph({ op_type: 'Div', name: '/gate/Div', input: ['x', 'h'], output: ['q'] }, { op_type: 'Relu', name: '/Relu', input: ['q'], output: ['y'] }));
  const runs = await Promise.all([
    run('info', bad),
    run('bounds', bad, '--domain', '0:1'),
    run('bounds', div, '--domain', '-1:1'),
    run('bounds', div, '--domain', '-1:1', '--census', '--timeout', '1', '--json'),
    run('bounds', div, '--domain', '0:1', '--json'),
    run('bounds', cnnPath, '--domain', '0:1', '--max', '1:0'),
    run('bounds', cnnPath),
    run('slice', cnnPath, '--domain', '0:1', '--max-slices', '4', '-o', join(dir, 'never-family')),
  ]);
  for (const r of runs.slice(0, 2)) oneLineError(r, 2, /^nnshrink: error: .*erf\.onnx: node '\/act\/Erf' \(Erf\): unsupported operator Erf/);
  oneLineError(runs[2], 3, /^nnshrink: .*div\.onnx: no bounds: node '\/gate\/Div' \(div\): the divisor's element 0 lies in \[-1\.5\d*, 2\.5\d*\], which contains 0/);
  assert.equal(runs[3].code, 3, runs[3].err);
  assert.match(runs[3].err, /bound refused/);
  assert.equal(JSON.parse(runs[3].out).counts.never, 0);
  // on [0, 1] the divisor 2x + 0.5 is at least 0.5: relu(x / (2x + 0.5)) lies in [0, 2/3], reached at 0 and 1
  const ok = json(runs[4]);
  ok.output.lo.forEach((l: number, i: number) => assert.ok(l <= 0 && ok.output.hi[i] >= 2 / 3 - 1e-12 && ok.output.hi[i] < 100));
  oneLineError(runs[5], 2, /--max: not available on graph networks/);
  oneLineError(runs[6], 2, /cnn\.onnx: the model states no input domain; give one with --domain .*768 values/);
  // an image network is not sliced, and says why (a box cut in 768 dimensions), nothing written
  oneLineError(runs[7], 2, /cnn\.onnx: a graph network of 768 inputs \(an image network\): slice splits the input box/);
  assert.ok(!existsSync(join(dir, 'never-family')));
});

const SHARED_CNN = sharedPath('cnn', 'marabou-cifar10', 'nets', 'cifar10_small.onnx');
const SHARED_PROP = sharedPath('cnn', 'marabou-cifar10', 'specs', 'networkcifar10_small_index1189_eps0.012_target1_orig0.vnnlib');
const SKIP_CNN = SKIP_SHARED || (existsSync(SHARED_PROP) ? false : `${SHARED_PROP} not found: skipping the shared CNN`);

test('a VNN-COMP CNN (marabou-cifar10 small: NHWC input, Transpose, MatMul): info, and bounds --method crown over its property', { skip: SKIP_CNN }, async () => {
  const [i, b] = await Promise.all([run('info', SHARED_CNN, '--json'), run('bounds', SHARED_CNN, '--vnnlib', SHARED_PROP, '--method', 'crown', '--json')]);
  const info = json(i);
  assert.deepEqual(info.input.shape, [32, 32, 3]);
  assert.equal(info.reluNeurons, 2568);
  const r = json(b);
  const g = readOnnxGraph(SHARED_CNN);
  const box = readVnnlib(SHARED_PROP).regions[0].box;
  for (const x of samples(Array.from(box.lo), Array.from(box.hi), 40, 13)) {
    const y = forwardGraph(g, x);
    y.forEach((v, k) => assert.ok(r.output.lo[k] <= v && v <= r.output.hi[k], `output ${k}: ${v} not in [${r.output.lo[k]}, ${r.output.hi[k]}]`));
  }
  assert.ok(r.activations.reduce((s: number, a: { unstable: number }) => s + a.unstable, 0) < 2568);
});
