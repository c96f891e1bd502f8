/** The real networks of ../shared/nets: loading, independent evaluation, accuracy, cross-format agreement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { forward } from '../src/model/network.ts';
import { samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { readNNet, nnetText, parseNNet } from '../src/formats/nnet.ts';
import { readOnnx, parseOnnx } from '../src/formats/onnx-read.ts';
import { onnxBytes } from '../src/formats/onnx-write.ts';
import { SKIP_SHARED, acasNnet, acasOnnx, sharedPath } from './helpers/shared.ts';
import { ortSession } from './helpers/ort.ts';

const ACAS: Array<[number, number]> = [];
for (let i = 1; i <= 5; i++) for (let j = 1; j <= 9; j++) ACAS.push([i, j]);

/** NNet semantics written out plainly from the format description (independent of src/formats/nnet.ts). */
function nnetReference(path: string, x: number[]): number[] {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('//'));
  const nums = (l: string) => l.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
  const [nl, ni] = nums(lines[0]);
  const sizes = nums(lines[1]);
  const [mins, maxs, means, ranges] = [3, 4, 5, 6].map((i) => nums(lines[i]));
  let a = x.map((v, i) => (Math.min(Math.max(v, mins[i]), maxs[i]) - means[i]) / ranges[i]);
  let p = 7;
  for (let k = 0; k < nl; k++) {
    const W: number[][] = [];
    for (let i = 0; i < sizes[k + 1]; i++) W.push(nums(lines[p++]));
    const b: number[] = [];
    for (let i = 0; i < sizes[k + 1]; i++) b.push(nums(lines[p++])[0]);
    a = W.map((row, i) => {
      const z = row.reduce((s, w, j) => s + w * a[j], b[i]);
      return k < nl - 1 ? Math.max(z, 0) : z;
    });
  }
  return a.map((v) => v * ranges[ni] + means[ni]);
}

test('all 45 ACAS Xu NNet files: the raw view equals the NNet semantics on random domain points', { skip: SKIP_SHARED }, () => {
  for (const [i, j] of ACAS) {
    const m = readNNet(acasNnet(i, j));
    assert.ok(m.domain);
    const xs = samplePoints(m.domain!, 20, mulberry32(i * 10 + j));
    for (let s = 0; s < 20; s++) {
      const x = Array.from(xs.subarray(s * 5, s * 5 + 5));
      const y = forward(m.network, Float64Array.from(x));
      const r = nnetReference(acasNnet(i, j), x);
      r.forEach((v, k) => assert.ok(Math.abs(v - y[k]) <= 1e-9 * (1 + Math.abs(v)), `${i}_${j}: ${v} vs ${y[k]}`));
    }
  }
});

test('all 45 ACAS Xu ONNX files equal onnxruntime, and the NNet normalised view, within 1e-5', { skip: SKIP_SHARED }, async () => {
  for (const [i, j] of ACAS) {
    const o = readOnnx(acasOnnx(i, j));
    const nv = readNNet(acasNnet(i, j), 'normalized');
    const run = await ortSession(acasOnnx(i, j));
    const xs = samplePoints(nv.domain!, 8, mulberry32(i * 100 + j));
    for (let s = 0; s < 8; s++) {
      const x = xs.subarray(s * 5, s * 5 + 5);
      const y = forward(o.network, Float64Array.from(Float32Array.from(x)));
      const yr = await run(x, [1, 1, 1, 5]);
      const yn = forward(nv.network, x);
      for (let k = 0; k < 5; k++) {
        assert.ok(Math.abs(y[k] - yr[k]) <= 1e-5 * (1 + Math.abs(yr[k])), `${i}_${j} ort ${yr[k]} vs ${y[k]}`);
        assert.ok(Math.abs(y[k] - yn[k]) <= 1e-5 * (1 + Math.abs(yn[k])), `${i}_${j} nnet ${yn[k]} vs ${y[k]}`);
      }
    }
  }
});

function mnistImages(): { label: number; x: Float64Array }[] {
  return readFileSync(sharedPath('mnist', 'data', 'mnist_test.csv'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const v = l.split(',').map(Number);
      return { label: v[0], x: Float64Array.from(v.slice(1), (p) => p / 255) };
    });
}

function accuracy(net: import('../src/model/network.ts').Network, imgs: ReturnType<typeof mnistImages>): number {
  let ok = 0;
  for (const { label, x } of imgs) {
    const y = forward(net, x);
    if (y.indexOf(Math.max(...y)) === label) ok++;
  }
  return ok / imgs.length;
}

test('MNIST networks load from NNet and ONNX and score at least 96% on the 100 test images', { skip: SKIP_SHARED }, async () => {
  const imgs = mnistImages();
  for (const name of ['mnist10x10', 'mnist10x20', 'mnist20x20', 'mnist20x40']) {
    const m = readNNet(sharedPath('mnist', 'nnet', `${name}.nnet`));
    assert.ok(accuracy(m.network, imgs) >= 0.96, name);
  }
  for (const name of ['mnist-net_256x2', 'mnist-net_256x4']) {
    const p = sharedPath('mnist', 'onnx', `${name}.onnx`);
    const m = readOnnx(p);
    assert.ok(accuracy(m.network, imgs) >= 0.96, name);
    const run = await ortSession(p);
    for (const { x } of imgs.slice(0, 5)) {
      const yr = await run(x, [1, 784, 1]);
      const y = forward(m.network, Float64Array.from(Float32Array.from(x)));
      y.forEach((v, k) => assert.ok(Math.abs(v - yr[k]) <= 1e-5 * (1 + Math.abs(v)), `${name}: ${v} vs ${yr[k]}`));
    }
  }
});

test('round trips NNet -> ONNX -> NNet and ONNX -> NNet -> ONNX preserve the function', { skip: SKIP_SHARED }, async () => {
  for (const [i, j] of [[1, 1], [3, 5], [5, 9]] as const) {
    const a = readNNet(acasNnet(i, j));
    const xs = samplePoints(a.domain!, 200, mulberry32(5));
    const y0 = forward(a.network, xs, 200);
    // float64 path: relative 1e-9
    const b64 = parseOnnx(onnxBytes(a.network, { precision: 'float64', domain: a.domain }), 'mem');
    const c64 = parseNNet(nnetText(b64.network, { domain: b64.domain }), 'mem');
    assert.deepEqual(Array.from(c64.domain.lo), Array.from(a.domain!.lo));
    const y1 = forward(c64.raw, xs, 200);
    y0.forEach((v, k) => assert.ok(Math.abs(v - y1[k]) <= 1e-9 * (1 + Math.abs(v))));
    // float32 storage of the normalised network (the VNN-COMP units): 1e-6 relative (plus 1e-6 absolute)
    const nv = readNNet(acasNnet(i, j), 'normalized');
    const xn = samplePoints(nv.domain!, 200, mulberry32(6));
    const yn = forward(nv.network, xn, 200);
    const y2 = forward(parseOnnx(onnxBytes(nv.network, { precision: 'float32' }), 'mem').network, xn, 200);
    const scale = Math.max(...yn.map(Math.abs));
    yn.forEach((v, k) => assert.ok(Math.abs(v - y2[k]) <= 1e-6 * (1 + Math.abs(v)), `${v} vs ${y2[k]} (scale ${scale})`));
    // ONNX -> NNet -> ONNX from the VNN-COMP file, and onnxruntime runs what we wrote
    const o = readOnnx(acasOnnx(i, j));
    const back = parseOnnx(onnxBytes(parseNNet(nnetText(o.network), 'mem').raw, { precision: 'float64', inputShape: [1, 1, 1, 5] }), 'mem');
    const run = await ortSession(onnxBytes(back.network, { precision: 'float64', inputShape: [1, 1, 1, 5] }));
    const x = Float64Array.from([0.1, -0.2, 0.3, 0.2, -0.1]);
    const yo = forward(o.network, x);
    const yb = forward(back.network, x);
    const yr = await run(x, [1, 1, 1, 5], 'float64');
    for (let k = 0; k < 5; k++) {
      assert.ok(Math.abs(yo[k] - yb[k]) <= 1e-9 * (1 + Math.abs(yo[k])));
      assert.ok(Math.abs(yo[k] - yr[k]) <= 1e-9 * (1 + Math.abs(yo[k])));
    }
  }
});
