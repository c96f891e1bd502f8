/**
 * quantize on graph networks (issue 30): a small CNN (Conv, BatchNormalization, ReLU, MaxPool, a residual Add,
 * AveragePool, flatten, Gemm) in float16 and int8 per channel: the file read back as the stored numbers,
 * onnxruntime on it within the proved bound of the original (evaluated exactly, in float64) on random points of the
 * domain, check re-proves the certificate; a tampered weight scale is refuted (and, with the old hash, refused in one
 * line); the float32 rounding bound covers what onnxruntime computes from the demo PyTorch-style CNN's own file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYTORCH_CNN_INPUT, pytorchCnn } from '../src/demo/cnn.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { encodeGraphOnnx } from '../src/formats/onnx-graph/write.ts';
import type { Graph } from '../src/model/graph/types.ts';
import { GraphBuilder, tensor } from './helpers/graph-build.ts';
import { decodeModel, encodeModel } from '../src/formats/onnx-schema.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { makeBox, samplePoints, type Box } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { sha256Of } from '../src/simplify/graph/certificate.ts';
import { graphFloat32Rounding } from '../src/simplify/quantize/graph-rounding.ts';
import { quantize } from '../src/api/quantize.ts';
import { checkCertificate } from '../src/api/check.ts';
import { NnsError } from '../src/errors.ts';
import { ortSession } from './helpers/ort.ts';
import { cliIn } from './helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nns-qgraph-'));
const at = (p: string): string => join(dir, p);

/** conv bn relu maxpool, conv + residual, relu, averagepool, flatten, dense relu dense: [2, 8, 8] -> [5] */
function smallCnn(): Graph {
  const r = mulberry32(3);
  const b = new GraphBuilder(r, { convWeight: 0.3, bias: 0.1 });
  const bn = b.add('batchnorm', [b.conv('x', 2, 4)], {}, { scale: { shape: [4], data: Float64Array.from([0.8, 1.1, 0.9, 1.3]) }, shift: tensor(r, [4], 0.1) });
  const p1 = b.add('maxpool', [b.add('relu', [bn])], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil: false });
  const r2 = b.add('relu', [b.add('add', [b.conv(p1, 4, 4), p1])]);
  const ap = b.add('averagepool', [r2], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], countIncludePad: true });
  const h = b.add('relu', [b.dense(b.add('reshape', [ap], { shape: [16] }), 16, 8)]);
  return b.build(INPUT, b.dense(h, 8, 5));
}
const INPUT = [2, 8, 8];
const src = at('cnn.onnx');
writeFileSync(src, encodeGraphOnnx(smallCnn(), { precision: 'float32', opset: 17 }));
const f = parseOnnxGraph(readFileSync(src), src);
const n = INPUT.reduce((a, b) => a * b, 1);
// an L-infinity ball of radius 0.02 around a seeded image in [0, 1]
const rng = mulberry32(11);
const centre = Array.from({ length: n }, () => 0.1 + 0.8 * rng());
const ball: Box = makeBox(centre.map((c) => c - 0.02), centre.map((c) => c + 0.02));
const COUNT = 300;
const shape = [COUNT, ...INPUT];
// points of the ball: onnxruntime is fed them as float32 (the claim's "fed as float32"), f evaluated on them exactly
const X = samplePoints(ball, COUNT, mulberry32(12));
const fx = forwardGraph(f, X, COUNT);
const maxDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

for (const spec of [{ to: 'float16' as const, perChannel: false }, { to: 'int8' as const, perChannel: true }]) {
  const name = `${spec.to}${spec.perChannel ? '-pc' : ''}`;
  test(`quantize a CNN to ${name}, --epsilon auto: read back exactly, onnxruntime within the proved bound, check proves it`, async () => {
    const q = await quantize(src, { ...spec, tolerance: { kind: 'auto' }, domain: ball, maxBoxes: 10, timeoutMs: 10_000, output: at(`${name}.onnx`) });
    assert.equal(q.proof.status, 'proved');
    const E = q.epsilon;
    assert.equal(q.certificate.tolerance.kind, 'linf');
    assert.ok(Number.isFinite(E) && E > 0, `E ${E}`);
    // a network this small is mostly names and headers: the file is smaller, not a quarter
    assert.ok(q.sizes.bytes < q.sizes.float32Bytes, `${q.sizes.bytes} bytes against ${q.sizes.float32Bytes}`);
    // the file reads back as the graph the proof is about
    const g = parseOnnxGraph(readFileSync(at(`${name}.onnx`)), name);
    const gx = forwardGraph(g, X, COUNT);
    const run = await ortSession(at(`${name}.onnx`));
    const ox = await run(X, shape);
    assert.ok(maxDiff(ox, gx) <= q.proof.rounding, `onnxruntime ${maxDiff(ox, gx)} from the file's numbers, rounding bound ${q.proof.rounding}`);
    assert.ok(maxDiff(ox, fx) <= E, `onnxruntime differs from f by ${maxDiff(ox, fx)} > proved ${E}`);
    assert.ok(maxDiff(gx, fx) > 0, 'the weights changed');
    const c = await checkCertificate(at(`${name}.onnx.certificate.json`), { timeoutMs: 60_000 });
    assert.equal(c.kind, 'quantize');
    assert.equal(c.status, 'proved', JSON.stringify(c.kind === 'quantize' ? c.result.verdict : c));
  });
}

test('a tampered weight scale: refused with the old hash, refuted with the new one', async () => {
  const out = at('t8.onnx');
  await quantize(src, { to: 'int8', perChannel: false, tolerance: { kind: 'linf', epsilon: 1 }, domain: ball, maxBoxes: 50, output: out });
  const m = decodeModel(readFileSync(out));
  const scale = m.graph!.initializer!.filter((t) => t.name?.endsWith('_scale')).pop()!;
  const v = new DataView(scale.raw_data!.buffer, scale.raw_data!.byteOffset, 4);
  v.setFloat32(0, v.getFloat32(0, true) * 8, true);
  const bytes = encodeModel(m);
  writeFileSync(out, bytes);
  const certPath = `${out}.certificate.json`;
  await assert.rejects(checkCertificate(certPath), (e: unknown) => e instanceof NnsError && /sha256 mismatch/.test(e.message));
  const cert = JSON.parse(readFileSync(certPath, 'utf8'));
  cert.output.sha256 = sha256Of(bytes);
  writeFileSync(certPath, JSON.stringify(cert));
  const c = await checkCertificate(certPath, { timeoutMs: 30_000 });
  assert.equal(c.status, 'refuted');
});

test('not proved: nothing written, and each node kept float32 in turn is reported', async () => {
  await assert.rejects(
    quantize(src, { to: 'int8', tolerance: { kind: 'linf', epsilon: 1e-4 }, domain: ball, maxBoxes: 5, timeoutMs: 5000, output: at('tight.onnx') }),
    (e: unknown) => e instanceof NnsError && e.code === 'not-proved' && /node 1 \(n0\) float32: <= /.test(e.message) && /node 4 \(n11\) float32/.test(e.message),
  );
  assert.ok(!existsSync(at('tight.onnx')));
});

test('the float32 rounding bound covers onnxruntime on the demo PyTorch-style CNN (BatchNormalization fused by onnxruntime)', async () => {
  const bytes = pytorchCnn({ seed: 5 });
  const p = parseOnnxGraph(bytes, 'pytorch.onnx');
  const m = PYTORCH_CNN_INPUT.reduce((a, b) => a * b, 1);
  const r = mulberry32(13);
  const c = Array.from({ length: m }, () => 0.1 + 0.8 * r());
  const box = makeBox(c.map((v) => v - 0.05), c.map((v) => v + 0.05));
  const xs = samplePoints(box, 200, mulberry32(14));
  const R = graphFloat32Rounding(p, [box]);
  const ox = await (await ortSession(bytes))(xs, [200, ...PYTORCH_CNN_INPUT]);
  const d = maxDiff(ox, forwardGraph(p, xs, 200));
  assert.ok(d > 0 && d <= R, `onnxruntime ${d} from exact, bound ${R}`);
});

test('CLI: --preserve-class argmax on a CNN over a ball; check proves the certificate; a --keep-float node it lacks is refused', async () => {
  const domain = `${ball.lo.join(',')}:${ball.hi.join(',')}`;
  const cli = cliIn(dir);
  const q = await cli('quantize', 'cnn.onnx', '--to', 'float16', '--domain', domain, '--preserve-class', 'argmax', '--margin', '0.3', '-o', 'c16.onnx', '--json');
  assert.equal(q.code, 0, q.err + q.out);
  assert.equal(JSON.parse(q.out).result, 'proved');
  const c = await checkCertificate(at('c16.onnx.certificate.json'), { timeoutMs: 30_000 });
  assert.equal(c.status, 'proved');
  await assert.rejects(quantize(src, { to: 'int8', keepFloat: [8], tolerance: { kind: 'linf', epsilon: 1 }, domain: ball, output: at('k.onnx') }), /layer 9 does not exist \(the network has 4 conv and dense nodes\)/);
});
