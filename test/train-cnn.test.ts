/**
 * The project's own CNN trainer (src/demo/train/): gradients against finite differences, the forward pass against
 * the graph model's independent kernels, determinism by seed, learning within an epoch budget, and the proximal L1
 * terms giving exact zeros that reach a float32 ONNX file which onnxruntime evaluates as forwardGraph does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../src/model/rng.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { graphDifference } from '../src/model/graph/compare.ts';
import { makeImages } from '../src/demo/train/data.ts';
import { initParams, layoutOf, DEFAULT_ARCH, type CnnArch } from '../src/demo/train/net.ts';
import { crossEntropy, logitsOf, lossAndGradient } from '../src/demo/train/model.ts';
import { accuracy, trainCnn } from '../src/demo/train/train.ts';
import { cnnGraph, sparsity, writeTrainedCnn } from '../src/demo/train/export.ts';
import { ortRun } from './helpers/ort.ts';

const TINY: CnnArch = { size: 8, c1: 2, c2: 3, hidden: 4, classes: 3 };

function tinyBatch(batch: number, seed: number): { x: Float64Array; labels: Int32Array } {
  const r = mulberry32(seed);
  return { x: Float64Array.from({ length: batch * TINY.size * TINY.size }, r), labels: Int32Array.from({ length: batch }, () => Math.floor(r() * TINY.classes)) };
}

test('gradients of the mean cross-entropy equal central finite differences on a tiny CNN and batch', () => {
  const l = layoutOf(TINY);
  const p = initParams(l, 3);
  // positive biases away from 0: most units active, none at its kink (where the difference quotient is no derivative)
  const r = mulberry32(9);
  for (const layer of l.layers) for (let i = layer.bias.offset; i < layer.bias.offset + layer.bias.length; i++) p[i] = 0.05 + 0.2 * r();
  const batch = 4;
  const { x, labels } = tinyBatch(batch, 4);
  const grad = new Float64Array(l.total);
  lossAndGradient(l, p, x, labels, batch, grad);
  const loss = (q: Float64Array): number => crossEntropy(logitsOf(l, q, x, batch), labels, TINY.classes, batch);
  const h = 1e-6;
  let worst = 0;
  for (let i = 0; i < l.total; i++) {
    const q = Float64Array.from(p);
    q[i] = p[i] + h;
    const up = loss(q);
    q[i] = p[i] - h;
    const fd = (up - loss(q)) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1e-3, Math.abs(fd) + Math.abs(grad[i])));
  }
  assert.ok(worst < 1e-5, `largest relative error ${worst}`);
  // every layer's weights take part (a zero gradient would agree with zero differences and prove nothing)
  for (const layer of l.layers) {
    const moving = grad.subarray(layer.weight.offset, layer.weight.offset + layer.weight.length).filter((v) => Math.abs(v) > 1e-4).length;
    assert.ok(moving >= layer.weight.length / 4, `${layer.name}: ${moving} of ${layer.weight.length} weight gradients non-zero`);
  }
});

test("the trainer's forward pass equals forwardGraph of the exported graph (the graph model's own kernels)", () => {
  const l = layoutOf(DEFAULT_ARCH);
  const p = initParams(l, 5).map(Math.fround);
  const x = makeImages(6, 7).x;
  const ours = logitsOf(l, p, x, 7);
  const theirs = forwardGraph(cnnGraph(l, p), x, 7);
  assert.equal(ours.length, 7 * DEFAULT_ARCH.classes);
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - theirs[i]) <= 1e-12 * Math.max(1, Math.abs(theirs[i])), `${i}: ${ours[i]} vs ${theirs[i]}`);
});

test('the same seed gives bit-identical weights; another seed gives other weights', () => {
  const data = makeImages(1, 256);
  const run = (seed: number): Float64Array => trainCnn(DEFAULT_ARCH, data, { seed, epochs: 1 }).params;
  const [a, b, c] = [run(1), run(1), run(2)];
  assert.deepEqual(new Uint8Array(a.buffer), new Uint8Array(b.buffer));
  assert.notDeepEqual(new Uint8Array(a.buffer), new Uint8Array(c.buffer));
  // the data set too is a function of its seed
  assert.deepEqual(makeImages(3, 20).x, makeImages(3, 20).x);
  assert.notDeepEqual(makeImages(3, 20).x, makeImages(4, 20).x);
});

test('training reaches far better than chance (25%) on held-out images within 4 epochs of 1000 images', () => {
  const l = layoutOf(DEFAULT_ARCH);
  const test = makeImages(2, 500);
  const before = accuracy(l, initParams(l, 1), test);
  const t = trainCnn(DEFAULT_ARCH, makeImages(1, 1000), { seed: 1, epochs: 4 });
  const after = accuracy(t.layout, t.params, test);
  assert.ok(after > 0.7, `held-out accuracy ${after} (untrained: ${before})`);
  assert.ok(t.epochLoss[3] < 0.5 * t.epochLoss[0], t.epochLoss.join());
});

test('proximal L1 and group lasso give exact zeros while the loss falls; the float32 ONNX runs in onnxruntime as forwardGraph', async () => {
  const data = makeImages(1, 1000);
  const plain = trainCnn(DEFAULT_ARCH, data, { seed: 1, epochs: 6 });
  assert.equal(sparsity(plain.layout, plain.params).reduce((a, s) => a + s.zeroWeights, 0), 0);
  const l1 = trainCnn(DEFAULT_ARCH, data, { seed: 1, epochs: 6, penalty: { kind: 'l1', lambda: 0.01 } });
  const zeros = sparsity(l1.layout, l1.params).reduce((a, s) => a + s.zeroWeights, 0);
  assert.ok(zeros > l1.layout.total / 4, `${zeros} zero weights of ${l1.layout.total}`);
  assert.ok(l1.epochLoss[5] < 0.5 * l1.epochLoss[0], l1.epochLoss.join());
  const group = trainCnn(DEFAULT_ARCH, data, { seed: 1, epochs: 6, penalty: { kind: 'group', lambda: 0.01 } });
  const rows = sparsity(group.layout, group.params);
  assert.ok(rows.some((s) => s.zeroRows > 0), JSON.stringify(rows));
  assert.equal(rows.find((s) => s.layer === 'fc2')!.zeroRows, 0);
  const dir = mkdtempSync(join(tmpdir(), 'nns-train-'));
  try {
    const file = join(dir, 'l1.onnx');
    const g = writeTrainedCnn(l1.layout, l1.params, file);
    assert.equal(graphDifference(g, parseOnnxGraph(readFileSync(file), file)), null);
    const r = mulberry32(8);
    const batch = 6;
    const x = Float32Array.from({ length: batch * 144 }, r);
    const ours = forwardGraph(g, Float64Array.from(x), batch);
    const theirs = await ortRun(file, x, [batch, 1, 12, 12]);
    const scale = Math.max(1, ...Array.from(ours, Math.abs));
    for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - theirs[i]) <= 1e-5 * scale, `${i}: ${ours[i]} vs ${theirs[i]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
