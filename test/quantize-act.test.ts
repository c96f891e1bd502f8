/**
 * quantize --activations (issue 30): the files store each hidden ReLU output as uint8 QDQ or float16, onnxruntime
 * computes what a second, plain implementation of that arithmetic here computes, its outputs stay within the
 * proved bound of the original on random points (a made network, the default one, ACAS Xu where ../shared exists),
 * the reader gives back the scales written, check re-proves the certificate, and a tampered scale (the certificate
 * re-hashed to match) or zero point makes check refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { defaultModel } from '../src/demo/default-network.ts';
import { randomNetwork } from '../src/demo/random-network.ts';
import { makeBox, samplePoints, type Box } from '../src/model/box.ts';
import { forward, type Network } from '../src/model/network.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { decodeModel, encodeModel } from '../src/formats/onnx-schema.ts';
import { quantOnnxBytes } from '../src/formats/onnx-quant-write.ts';
import { storeNetwork, storedNetwork, type QuantSpec } from '../src/simplify/quantize/values.ts';
import { calibrateScheme, type ActScheme, type ActTarget } from '../src/simplify/quantize/activations.ts';
import { readStoredActivations } from '../src/simplify/quantize/read-act.ts';
import { readChain } from '../src/simplify/quantize/read.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { proveQuantized } from '../src/simplify/quantize/prove.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { ortSession } from './helpers/ort.ts';
import { cliIn } from './helpers/run-cli.ts';
import { SKIP_SHARED, acasOnnx, sharedPath } from './helpers/shared.ts';

const HALF = new Float32Array(1);
/** float16 rounding of a float32 value, a second way: through the bits (round to nearest even, no overflow here). */
function toHalf(x: number): number {
  HALF[0] = x;
  const a = Math.abs(HALF[0]);
  if (a === 0) return x;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const step = 2 ** (e - 10);
  const r = a / step;
  const f = Math.floor(r);
  const m = r - f > 0.5 || (r - f === 0.5 && f % 2 === 1) ? f + 1 : f;
  return Math.sign(x) * m * step;
}

/** g evaluated in float64 with each stored output replaced by its stored value (uint8: clamp(round(x / s)) s). */
function simulate(g: Network, act: ActScheme, xs: Float64Array, count: number): Float64Array {
  let cur = Float64Array.from(xs);
  g.layers.forEach((L, k) => {
    const out = new Float64Array(count * L.outSize);
    for (let p = 0; p < count; p++) {
      for (let j = 0; j < L.outSize; j++) {
        let z = L.bias[j];
        for (let i = 0; i < L.inSize; i++) z += L.weights[j * L.inSize + i] * cur[p * L.inSize + i];
        let v = L.relu[j] ? Math.max(0, z) : z;
        const a = act[k];
        if (a.kind === 'uint8') v = Math.min(255, Math.max(0, Math.round(Math.fround(v) / a.scale))) * a.scale;
        else if (a.kind === 'float16') v = toHalf(v);
        out[p * L.outSize + j] = v;
      }
    }
    cur = out;
  });
  return cur;
}

/** what the writer was given (the reader adds the fused kernel's bias step) */
const scaleOf = (a: ActScheme[number]): string => (a.kind === 'uint8' ? `uint8 ${a.scale}` : a.kind);
const meanDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => m + Math.abs(v - b[i]), 0) / a.length;
const maxDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const CASES: Array<{ name: string; net: Network; box: Box }> = [
  { name: 'default network', net: defaultModel().network, box: defaultModel().domain! },
  { name: 'random 4x16x12x3 chain', net: randomNetwork(7, [4, 16, 12, 3]), box: makeBox([-1, -2, 0, -1], [1, 0, 1, 3]) },
];
const INT8: QuantSpec = { to: 'int8', perChannel: true, keepFloat: [] };

for (const { name, net, box } of CASES) {
  for (const target of ['int8', 'float16'] as ActTarget[]) {
    test(`activations ${target}, ${name}: read back as written, onnxruntime computes the stored arithmetic, within the proved bound on 10,000 points`, async () => {
      const stored = storeNetwork(net, INT8);
      const g = storedNetwork(net, stored);
      const act = calibrateScheme(g, [box], target, []);
      assert.equal(act.filter((a) => a.kind !== 'float32').length, net.layers.length - 1);
      const bytes = quantOnnxBytes(net, stored, { domain: box }, {}, act);
      const back = readStoredActivations(bytes, 'q.onnx')!;
      assert.deepEqual(back.act.map(scaleOf), act.map(scaleOf));
      assert.ok(back.model.network.layers.every((L, k) => L.weights.every((w, i) => Object.is(w, g.layers[k].weights[i]))));
      const weightsOnly = proveQuantized(net, g, [box], 0, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 60_000, maxBoxes: 150, seed: 1 });
      const proof = proveQuantized(net, g, [box], 0, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 60_000, maxBoxes: 150, seed: 1, act: back.act });
      assert.equal(proof.status, 'proved');
      const n = net.inputSize;
      const xs = samplePoints(box, 10_000, mulberry32(5)).map(Math.fround);
      const y = await (await ortSession(bytes))(xs, [10_000, n]);
      const yf = forward(net, xs, 10_000);
      const yg = forward(g, xs, 10_000);
      const plain = maxDiff(y, yg);
      // onnxruntime does store the activations (it is farther from g than float32 alone may be) as simulated here: on
      // average far nearer the simulation than g (a value near a rounding boundary may go either way, and the fused
      // integer kernel rounds the biases: not bit for bit)
      assert.ok(plain > weightsOnly.rounding, `onnxruntime within ${plain} of g: the activations made no difference`);
      const [sim, off] = [meanDiff(y, simulate(g, act, xs, 10_000)), meanDiff(y, yg)];
      assert.ok(sim < off / 4, `onnxruntime is on average ${sim} from the simulation, ${off} from g`);
      assert.ok(plain <= proof.rounding, `onnxruntime is ${plain} from g, more than the bound ${proof.rounding}`);
      const worst = maxDiff(y, yf);
      assert.ok(worst <= proof.provedBound, `onnxruntime differs by ${worst} > proved ${proof.provedBound}`);
    });
  }
}

test('activations int8 calibrated on 20 samples only: onnxruntime clips activations, and the proof (from proved bounds) still covers it', async () => {
  const net = randomNetwork(11, [3, 12, 10, 2]);
  const box = makeBox([-1, -1, -1], [1, 1, 1]);
  const stored = storeNetwork(net, INT8);
  const g = storedNetwork(net, stored);
  const act = calibrateScheme(g, [box], 'int8', [], 20);
  const bytes = quantOnnxBytes(net, stored, { domain: box }, {}, act);
  const xs = samplePoints(box, 10_000, mulberry32(8)).map(Math.fround);
  // some hidden activation on these points is beyond 255 s (what the 20 samples saw)
  let cur: Float64Array = xs;
  let clipped = 0;
  g.layers.slice(0, -1).forEach((L, k) => {
    const post = forward({ inputSize: L.inSize, layers: [L] }, cur, 10_000);
    clipped += post.filter((v) => v > 255 * (act[k] as { scale: number }).scale).length;
    cur = post;
  });
  assert.ok(clipped > 0, 'no activation is clipped: the test shows nothing');
  const proof = proveQuantized(net, g, [box], 0, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 60_000, maxBoxes: 150, seed: 1, act: readStoredActivations(bytes, 'c.onnx')!.act });
  assert.equal(proof.status, 'proved');
  const y = await (await ortSession(bytes))(xs, [10_000, 3]);
  const worst = maxDiff(y, forward(net, xs, 10_000));
  assert.ok(worst <= proof.provedBound, `onnxruntime differs by ${worst} > proved ${proof.provedBound}`);
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('quantize --activations int8: the certificate records the scales the file holds, check re-proves; a tampered scale or zero point is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nns-quant-act-'));
  const cli = cliIn(dir);
  const q = await cli('quantize', '--default', '--to', 'int8', '--per-channel', '--activations', 'int8', '--epsilon', '8', '--max-boxes', '100', '-o', 'q.onnx', '--json');
  assert.equal(q.code, 0, q.err);
  const r = JSON.parse(q.out);
  assert.match(r.claim, /hidden outputs stored after layers 1,2,3 as uint8/);
  const ok = await cli('check', 'q.onnx.certificate.json');
  assert.equal(ok.code, 0, ok.out + ok.err);
  const cert = JSON.parse(readFileSync(join(dir, 'q.onnx.certificate.json'), 'utf8'));
  assert.equal(cert.quantized.activations, 'int8');
  const file = readChain(join(dir, 'q.onnx'));
  assert.deepEqual(cert.quantized.storedActivations, file.act!.slice(0, -1).map((a, k) => ({ layer: k + 1, as: 'uint8', scale: (a as { scale: number }).scale })));

  // layer 1's scale cut to an eighth (most activations clip), the certificate re-hashed: not proved, or refuted
  const model = decodeModel(readFileSync(join(dir, 'q.onnx')));
  const s = model.graph!.initializer!.find((t) => t.name?.endsWith('_act_scale'))!;
  const v = new DataView(s.raw_data!.buffer.slice(s.raw_data!.byteOffset, s.raw_data!.byteOffset + 4));
  s.raw_data = new Uint8Array(new Float32Array([v.getFloat32(0, true) / 8]).buffer);
  const edited = encodeModel(model);
  writeFileSync(join(dir, 'e.onnx'), edited);
  // (a work limit of 20 boxes: the certificate's limit is a limit, not a fact)
  writeFileSync(join(dir, 'e.json'), JSON.stringify({ ...cert, output: { path: 'e.onnx', sha256: sha(edited) }, proof: { ...cert.proof, maxBoxes: 20 } }));
  const bad = await cli('check', 'e.json');
  assert.ok(bad.code === 1 || bad.code === 3, `tampered scale: exit ${bad.code}\n${bad.out}${bad.err}`);

  // a zero point of 3: not the arithmetic the proof covers, refused in one line
  const zp = model.graph!.initializer!.find((t) => t.name?.endsWith('_act_zero'))!;
  zp.raw_data = Uint8Array.of(3);
  s.raw_data = new Uint8Array(new Float32Array([v.getFloat32(0, true)]).buffer);
  const z = encodeModel(model);
  writeFileSync(join(dir, 'z.onnx'), z);
  writeFileSync(join(dir, 'z.json'), JSON.stringify({ ...cert, output: { path: 'z.onnx', sha256: sha(z) } }));
  const zr = await cli('check', 'z.json');
  assert.equal(zr.code, 2, zr.out + zr.err);
  assert.match(zr.err, /^nnshrink: error: .*z\.onnx: node .*zero point 3/);
  assert.equal(zr.err.trim().split('\n').length, 1);
});

test('activations int8 on ACAS Xu 1_1 (property 3 box): onnxruntime within the proved bound on 10,000 points', { skip: SKIP_SHARED }, async () => {
  const { model } = readChain(acasOnnx(1, 1));
  const f = model.network;
  const box = readVnnlib(sharedPath('acasxu/vnnlib/prop_3.vnnlib')).regions[0].box;
  const stored = storeNetwork(f, INT8);
  const g = storedNetwork(f, stored);
  const act = calibrateScheme(g, [box], 'int8', []);
  const bytes = quantOnnxBytes(f, stored, { domain: box, inputShape: model.inputShape, source: model.onnx }, {}, act);
  const back = readStoredActivations(bytes, 'acas.onnx')!;
  assert.deepEqual(back.act.map(scaleOf), act.map(scaleOf));
  const proof = proveQuantized(f, back.model.network, [box], 0, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 60_000, maxBoxes: 40, seed: 1, act: back.act });
  assert.equal(proof.status, 'proved');
  const n = f.inputSize;
  const xs = samplePoints(box, 10_000, mulberry32(9)).map(Math.fround);
  const run = await ortSession(bytes);
  const shape = [1, ...(model.inputShape ?? [1, n]).slice(1)];
  let worst = 0;
  const yf = forward(f, xs, 10_000);
  for (let p = 0; p < 10_000; p++) {
    const y = await run(xs.subarray(p * n, (p + 1) * n), shape);
    y.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - yf[p * y.length + k]))));
  }
  assert.ok(worst > 0 && worst <= proof.provedBound, `onnxruntime differs by ${worst}, proved ${proof.provedBound}`);
});
