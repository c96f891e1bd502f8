/**
 * quantize (issue 30, chains): the files run in onnxruntime within the proved bound of the original, read back as
 * exactly the float16 / dequantised values (rounded here a second way), and their certificates re-check; an edited
 * file is refuted or not proved; malformed certificates are refused in one line; --epsilon auto's E is proved and
 * the bisection's lower end is not.
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
import { parseOnnx } from '../src/formats/onnx-read.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { graphToChain } from '../src/model/graph/chain.ts';
import { decodeModel, encodeModel } from '../src/formats/onnx-schema.ts';
import { quantOnnxBytes } from '../src/formats/onnx-quant-write.ts';
import { storeNetwork, storedNetwork, type QuantSpec } from '../src/simplify/quantize/values.ts';
import { proveQuantized } from '../src/simplify/quantize/prove.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { ortSession } from './helpers/ort.ts';
import { cliIn } from './helpers/run-cli.ts';

/** Nearest float16 by search over every positive finite float16 value (ties to the even pattern). */
const HALVES = Float64Array.from({ length: 0x7c00 }, (_, k) => (k < 1024 ? k * 2 ** -24 : 2 ** ((k >> 10) - 15) * (1 + (k & 1023) / 1024)));
function nearestHalf(x: number): number {
  const a = Math.abs(x);
  let lo = 0;
  let hi = HALVES.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (HALVES[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - HALVES[lo];
  const dh = HALVES[hi] - a;
  const k = dl < dh || (dl === dh && lo % 2 === 0) ? lo : hi;
  return Math.sign(x) * HALVES[k];
}

/** What a reader must see: float16 rounding of every weight and bias; int8 q = round(w / s), s = fround(max|w| / 127). */
function expectedLayer(w: Float64Array, b: Float64Array, rows: number, spec: QuantSpec): { w: Float64Array; b: Float64Array } {
  if (spec.to === 'float16') return { w: w.map(nearestHalf), b: b.map(nearestHalf) };
  const groups = spec.perChannel ? rows : 1;
  const per = w.length / groups;
  const out = new Float64Array(w.length);
  for (let r = 0; r < groups; r++) {
    const part = w.subarray(r * per, (r + 1) * per);
    const s = Math.fround(Math.max(...Array.from(part, Math.abs)) / 127);
    part.forEach((v, i) => (out[r * per + i] = Math.fround(Math.min(127, Math.max(-127, Math.round(v / s))) * s)));
  }
  return { w: out, b: b.map(Math.fround) };
}

const SPECS: QuantSpec[] = [
  { to: 'float16', perChannel: false, keepFloat: [] },
  { to: 'int8', perChannel: false, keepFloat: [] },
  { to: 'int8', perChannel: true, keepFloat: [] },
];

const CASES: Array<{ name: string; net: Network; box: Box }> = [
  { name: 'default network', net: defaultModel().network, box: defaultModel().domain! },
  // a quarter of the hidden neurons linear: the writer's Mul / Max layers
  { name: 'random 4x16x12x3 chain', net: randomNetwork(7, [4, 16, 12, 3], 0.25), box: makeBox([-1, -2, 0, -1], [1, 0, 1, 3]) },
];

for (const { name, net, box } of CASES) {
  for (const spec of SPECS) {
    test(`quantize ${spec.to}${spec.perChannel ? ' per channel' : ''}, ${name}: read back exactly, onnxruntime within the proved bound on 10,000 points`, async () => {
      const bytes = quantOnnxBytes(net, storeNetwork(net, spec), { domain: box }, {});
      const g = parseOnnx(bytes, 'q.onnx').network;
      net.layers.forEach((L, k) => {
        const e = expectedLayer(L.weights, L.bias, L.outSize, spec);
        // equal as numbers (a weight rounded to zero may read back as +0 or -0: the same value)
        assert.deepEqual(Array.from(g.layers[k].weights, (v) => v + 0), Array.from(e.w, (v) => v + 0), `layer ${k + 1} weights`);
        assert.deepEqual(Array.from(g.layers[k].bias, (v) => v + 0), Array.from(e.b, (v) => v + 0), `layer ${k + 1} biases`);
        assert.deepEqual(Array.from(g.layers[k].relu), Array.from(L.relu));
      });
      // the graph reader (a file without nnshrink's metadata goes there when the chain reader refuses it) folds the
      // same values
      const viaGraph = graphToChain(parseOnnxGraph(bytes, 'q.onnx'));
      viaGraph.layers.forEach((L, k) => assert.deepEqual([L.weights, L.bias], [g.layers[k].weights, g.layers[k].bias], `graph reader, layer ${k + 1}`));
      const meant = storedNetwork(net, storeNetwork(net, spec));
      g.layers.forEach((L, k) => assert.ok(L.weights.every((v, i) => Object.is(v, meant.layers[k].weights[i])), `layer ${k + 1}: the file holds the stored numbers bit for bit`));
      const proof = proveQuantized(net, g, [box], 0, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 60_000, maxBoxes: 200, seed: 1 });
      assert.equal(proof.status, 'proved');
      assert.ok(proof.rounding > 0 && proof.provedBound > proof.foundMax);
      const run = await ortSession(bytes);
      const n = net.inputSize;
      const xs = samplePoints(box, 10_000, mulberry32(3)).map(Math.fround);
      const y = await run(xs, [10_000, n]);
      const yf = forward(net, xs, 10_000);
      const yg = forward(g, xs, 10_000);
      let worst = 0;
      let rounding = 0;
      for (let i = 0; i < y.length; i++) {
        worst = Math.max(worst, Math.abs(y[i] - yf[i]));
        rounding = Math.max(rounding, Math.abs(y[i] - yg[i]));
      }
      // onnxruntime computes the numbers the reader folded: within the float32 rounding bound of them
      assert.ok(rounding <= proof.rounding, `onnxruntime is ${rounding} from the file's numbers, more than the rounding bound ${proof.rounding}`);
      assert.ok(worst <= proof.provedBound, `onnxruntime differs by ${worst} > proved ${proof.provedBound}`);
      // and quantisation does change the function (the test could not pass with the original's numbers alone)
      assert.ok(worst > 0);
    });
  }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('quantize --default --to int8 --epsilon E: check re-proves; an edited weight is refuted or not proved; malformed certificates exit 2 in one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nns-quant-'));
  const cli = cliIn(dir);
  const q = await cli('quantize', '--default', '--to', 'int8', '--per-channel', '--epsilon', '2', '--max-boxes', '200', '-o', 'q.onnx');
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /^PROVED: /);
  const ok = await cli('check', 'q.onnx.certificate.json');
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /^PROVED: .*\n.*sampling 100000 points/);
  const cert = JSON.parse(readFileSync(join(dir, 'q.onnx.certificate.json'), 'utf8'));
  assert.equal(cert.format, 'nnshrink-quant-certificate');
  assert.deepEqual(cert.tolerance, { kind: 'linf', epsilon: 2 });
  assert.ok(cert.proof.provedBound <= 2);

  // one int8 weight of the first layer moved to the far end of its range, and the certificate re-hashed to match
  const model = decodeModel(readFileSync(join(dir, 'q.onnx')));
  const w = model.graph!.initializer!.find((t) => t.name === 'W0_q')!;
  const raw = Uint8Array.from(w.raw_data!);
  raw[0] = raw[0] < 128 ? 0x81 : 0x7f; // -127 for a non-negative one, +127 for a negative one
  w.raw_data = raw;
  const edited = encodeModel(model);
  writeFileSync(join(dir, 'e.onnx'), edited);
  writeFileSync(join(dir, 'e.json'), JSON.stringify({ ...cert, output: { path: 'e.onnx', sha256: sha(edited) }, tolerance: { kind: 'linf', epsilon: 0.05 } }));
  const bad = await cli('check', 'e.json');
  assert.ok(bad.code === 1 || bad.code === 3, `edited file: exit ${bad.code}\n${bad.out}${bad.err}`);
  assert.match(bad.out, /^(REFUTED|NOT PROVED): /);

  const broken: Array<[string, unknown]> = [
    ['missing tolerance', { ...cert, tolerance: undefined }],
    ['negative epsilon', { ...cert, tolerance: { kind: 'linf', epsilon: -1 } }],
    ['bad sha', { ...cert, output: { ...cert.output, sha256: 'xyz' } }],
    ['other file', { ...cert, output: { path: 'e.onnx', sha256: cert.output.sha256 } }],
    ['domain size', { ...cert, domain: [{ lo: [0], hi: [1] }] }],
    ['keep-float 0', { ...cert, quantized: { ...cert.quantized, keepFloat: [0] } }],
  ];
  for (const [what, obj] of broken) {
    writeFileSync(join(dir, 'b.json'), JSON.stringify(obj));
    const r = await cli('check', 'b.json');
    assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.out}${r.err}`);
    assert.equal(r.err.trim().split('\n').length, 1, `${what}: ${r.err}`);
    assert.match(r.err, /^nnshrink: error: /);
  }
});

test('quantize --epsilon auto: the E found is proved, the bisection lower end is not; a not-proved E writes nothing and names the layers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nns-quant-auto-'));
  const cli = cliIn(dir);
  const limit = ['--max-boxes', '60'];
  const a = await cli('quantize', '--default', '--to', 'float16', '--epsilon', 'auto', ...limit, '-o', 'a.onnx', '--json');
  assert.equal(a.code, 0, a.err);
  const r = JSON.parse(a.out);
  const E = r.tolerance.epsilon;
  assert.ok(E > 0 && r.proof.provedBound <= E);
  const lower = r.auto.lowerTried ? r.auto.lowerEnd : E / 2;
  assert.ok(lower < E);
  const again = await cli('quantize', '--default', '--to', 'float16', '--epsilon', String(E), ...limit, '-o', 'b.onnx');
  assert.equal(again.code, 0, again.err);
  const low = await cli('quantize', '--default', '--to', 'float16', '--epsilon', String(lower), ...limit, '-o', 'c.onnx');
  assert.equal(low.code, 3, low.out + low.err);
  assert.match(low.err, /not proved .*nothing written; layer 1 float32: .*layer 4 float32/);
  assert.throws(() => readFileSync(join(dir, 'c.onnx')));
  const offer = /--keep-float ([\d,]+) passes/.exec(low.err);
  if (offer) {
    const kept = await cli('quantize', '--default', '--to', 'float16', '--epsilon', String(lower), ...limit, '--keep-float', offer[1], '-o', 'd.onnx');
    assert.equal(kept.code, 0, kept.err);
  }
  const chk = await cli('check', 'a.onnx.certificate.json');
  assert.equal(chk.code, 0, chk.out + chk.err);
});

test('quantize --preserve-class: float16 keeps the default network\'s argmax where it leads by 0.2, and check re-proves it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nns-quant-class-'));
  const cli = cliIn(dir);
  const q = await cli('quantize', '--default', '--to', 'float16', '--preserve-class', 'argmax', '--margin', '0.2', '--max-boxes', '2000', '-o', 'c.onnx');
  assert.equal(q.code, 0, q.err);
  assert.match(q.out, /^PROVED: g \(evaluated in float32\) has f's argmax class/);
  const cert = JSON.parse(readFileSync(join(dir, 'c.onnx.certificate.json'), 'utf8'));
  assert.deepEqual(cert.tolerance, { kind: 'class', order: 'argmax', margin: 0.2 });
  const chk = await cli('check', 'c.onnx.certificate.json');
  assert.equal(chk.code, 0, chk.out + chk.err);
});
