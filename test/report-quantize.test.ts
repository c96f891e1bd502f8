/**
 * The quantisation report (issue 28): `quantize --report` and `check --report` of its certificate opened in
 * headless Chromium: no console errors or foreign requests, nothing wider than 1280 px, and what it shows is the
 * run's own: each layer's stored type as the certificate says, the file sizes as the files on disk (the float32 size
 * check recomputes equal to quantize's), the hashes, the claim, the proved bound against the largest difference
 * found. Screenshots go to bench/out/report-shots/. A report path that cannot be written: exit 2, nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliIn } from './helpers/run-cli.ts';
import { dataOf, openReport, SKIP_BROWSER, textsOf } from './helpers/report-browser.ts';
import { defaultModel } from '../src/demo/default-network.ts';
import { saveModel } from '../src/api/models.ts';
import { layerStores } from '../src/report/quantize.ts';
import { encodeGraphOnnx } from '../src/formats/onnx-graph/write.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { GraphBuilder } from './helpers/graph-build.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-report-q-'));
const run = cliIn(dir);
const at = (name: string): string => join(dir, name);
// the demo network as a file, so the page has an original file size too
const MODEL = at('demo.json');
saveModel(defaultModel(), MODEL);
const EPS = '0.3';

test('quantize --report and check --report: stored types per layer, sizes, hashes, claim and bound as the run and the files say', { skip: SKIP_BROWSER }, async (t) => {
  const q = await run('quantize', MODEL, '--to', 'int8', '--per-channel', '--keep-float', '2', '--epsilon', EPS, '--max-boxes', '2000', '-o', at('q.onnx'), '--report', at('quantize.html'), '--json');
  assert.equal(q.code, 0, q.err);
  const j = JSON.parse(q.out);
  const cert = JSON.parse(readFileSync(at('q.onnx.certificate.json'), 'utf8'));
  const sizes = [5, ...defaultModel().network.layers.map((L) => L.outSize)];
  assert.equal(defaultModel().network.inputSize, 5);
  const stores = layerStores(cert, sizes);
  await openReport(t, at('quantize.html'), 'quantize', async (p) => {
    assert.deepEqual(await dataOf(p, '#layers tbody tr', 'layer'), stores.map((s) => s.layer));
    const types = await p.$$eval('#layers tbody tr', (es) => es.map((e) => e.getAttribute('data-weights')));
    // layer 2 kept in float32 as asked, the others int8 per row
    assert.deepEqual(types, stores.map((s) => (s.layer === 2 ? 'float32 (kept)' : 'int8, a scale per row')));
    assert.deepEqual(await dataOf(p, '#files tr[data-what="stored"]', 'bytes'), [statSync(at('q.onnx')).size]);
    assert.deepEqual(await dataOf(p, '#files tr[data-what="stored"]', 'bytes'), [j.sizes.bytes]);
    assert.deepEqual(await dataOf(p, '#files tr[data-what="float32"]', 'bytes'), [j.sizes.float32Bytes]);
    assert.deepEqual(await dataOf(p, '#files tr[data-what="original"]', 'bytes'), [statSync(MODEL).size]);
    assert.deepEqual(await textsOf(p, 'code.hash'), [cert.input.sha256, cert.output.sha256]);
    assert.ok((await textsOf(p, '#claim dd')).includes(cert.claim));
    assert.equal(await p.$eval('#claim .badge', (e) => e.getAttribute('data-status')), 'proved');
    const [found] = await dataOf(p, 'g.bound[data-what="found"]', 'value');
    const [proved] = await dataOf(p, 'g.bound[data-what="proved"]', 'value');
    assert.equal(proved, j.proof.provedBound);
    assert.equal(found, j.proof.foundMax);
    assert.ok(found <= proved && proved <= Number(EPS), `found ${found} <= proved ${proved} <= ${EPS}`);
    assert.ok((await dataOf(p, 'g.stage', 'ms')).length >= 2, 'the time of the proof');
  });
  const c = await run('check', at('q.onnx.certificate.json'), '--report', at('check-quantize.html'), '--json');
  assert.equal(c.code, 0, c.err);
  const cj = JSON.parse(c.out);
  await openReport(t, at('check-quantize.html'), 'check-quantize', async (p) => {
    assert.equal(await p.$eval('#claim .badge', (e) => e.getAttribute('data-status')), cj.check.verdict.status);
    assert.ok((await textsOf(p, '#claim dd')).includes(cj.check.claim));
    assert.deepEqual(await textsOf(p, 'code.hash'), [cert.input.sha256, cert.output.sha256]);
    // check measures the files itself: the same sizes quantize reported
    assert.deepEqual(await dataOf(p, '#files tr[data-what="stored"]', 'bytes'), [j.sizes.bytes]);
    assert.deepEqual(await dataOf(p, '#files tr[data-what="float32"]', 'bytes'), [j.sizes.float32Bytes]);
    assert.deepEqual(await dataOf(p, 'g.bound[data-what="proved"]', 'value'), [cj.check.proof.provedBound]);
    assert.deepEqual(await dataOf(p, 'g.bound[data-what="found"]', 'value'), [Math.max(cj.check.proof.foundMax, cj.check.sampling.maxAbsDiff)]);
    assert.equal((await dataOf(p, '#layers tbody tr', 'layer')).length, stores.length);
  });
});

test('quantize --report to a path that cannot be written: one line, exit 2, nothing written', async () => {
  const r = await run('quantize', MODEL, '--to', 'float16', '--epsilon', EPS, '-o', at('n.onnx'), '--report', at('no-such-dir/r.html'));
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^nnshrink: error: .*--report/);
  assert.equal(r.err.trim().split('\n').length, 1);
  assert.ok(!existsSync(at('n.onnx')) && !existsSync(at('n.onnx.certificate.json')), 'nothing written');
});

test('quantize --report and check --report of a graph (a small CNN): the files\' sizes and hashes, no layer table', { skip: SKIP_BROWSER }, async (t) => {
  const b = new GraphBuilder(mulberry32(5), { convWeight: 0.4, bias: 0.2 });
  const h = b.add('relu', [b.conv('x', 2, 3)]);
  const y = b.dense(b.add('relu', [b.dense(b.add('reshape', [h], { shape: [108] }), 108, 8)]), 8, 4);
  const cnn = at('cnn.onnx');
  writeFileSync(cnn, encodeGraphOnnx(b.build([2, 6, 6], y), { precision: 'float32', opset: 17 }));
  const r = mulberry32(6);
  const centre = Array.from({ length: 72 }, () => 0.2 + 0.6 * r());
  const domain = `${centre.map((c) => c - 0.01).join(',')}:${centre.map((c) => c + 0.01).join(',')}`;
  const q = await run('quantize', cnn, '--to', 'float16', '--domain', domain, '--epsilon', '1', '--max-boxes', '10', '-o', at('cq.onnx'), '--report', at('quantize-graph.html'), '--json');
  assert.equal(q.code, 0, q.err);
  const cert = JSON.parse(readFileSync(at('cq.onnx.certificate.json'), 'utf8'));
  const c = await run('check', at('cq.onnx.certificate.json'), '--report', at('check-quantize-graph.html'));
  assert.equal(c.code, 0, c.err);
  for (const [file, name] of [[at('quantize-graph.html'), 'quantize-graph'], [at('check-quantize-graph.html'), 'check-quantize-graph']]) {
    await openReport(t, file, name, async (p) => {
      assert.deepEqual(await dataOf(p, '#files tr[data-what="stored"]', 'bytes'), [statSync(at('cq.onnx')).size]);
      assert.deepEqual(await dataOf(p, '#files tr[data-what="original"]', 'bytes'), [statSync(cnn).size]);
      assert.deepEqual(await textsOf(p, 'code.hash'), [cert.input.sha256, cert.output.sha256]);
      assert.equal(await p.$$eval('#layers', (es) => es.length), 0, 'no layer table for a graph');
      assert.equal(await p.$eval('#claim .badge', (e) => e.getAttribute('data-status')), 'proved');
    });
  }
});
