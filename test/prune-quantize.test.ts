/**
 * prune --quantize (issue 30): prune, then quantise the pruned network, with one claim max |f - q| <= D + E about
 * the original and the file written; onnxruntime runs that file within the claim of the original on random points,
 * `check` re-proves both parts, and a certificate whose claim is tighter than its parts, or a changed file, is
 * refused in one line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plantedNetwork } from '../src/demo/planted.ts';
import { jsonNetworkText } from '../src/formats/json.ts';
import { forward } from '../src/model/network.ts';
import { makeBox, samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { ortSession } from './helpers/ort.ts';
import { runCli } from './helpers/run-cli.ts';
import { loadModel } from '../src/formats/load.ts';
import { pruneAndQuantize } from '../src/api/prune-quantize.ts';
import { checkCertificate } from '../src/api/check.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-prune-quant-'));
const { net } = plantedNetwork(25, [3, 12, 12, 10, 2]);
const at = (f: string) => join(dir, f);
let run: Awaited<ReturnType<typeof runCli>>;

before(async () => {
  writeFileSync(at('f.json'), jsonNetworkText(net));
  run = await runCli(['prune', at('f.json'), '--domain', '-1,-1,-1:1,1,1', '-o', at('q.onnx'), '--quantize', 'int8', '--per-channel', '--max-boxes', '2000', '--json'], { cwd: dir, timeoutMs: 180_000 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('prune --quantize int8: the file onnxruntime runs is within the end-to-end claim of the original', async () => {
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { after: { reluNeurons: number }; before: { reluNeurons: number }; quantized: { epsilon: number; quantizationEpsilon: number; pruned: string } };
  assert.ok(out.after.reluNeurons < out.before.reluNeurons, 'the planted network lost neurons');
  assert.ok(existsSync(out.quantized.pruned), 'the float pruned network is written beside');
  const cert = JSON.parse(readFileSync(at('q.onnx.certificate.json'), 'utf8')) as { epsilon: number; prune: { floatingPoint: { exactTolerance: number } }; quantize: { tolerance: { epsilon: number } } };
  // D (the exact prune's rounding slack) + E (the quantisation's bound), rounded up
  assert.ok(cert.epsilon >= cert.prune.floatingPoint.exactTolerance + cert.quantize.tolerance.epsilon);
  assert.equal(cert.epsilon, out.quantized.epsilon);
  const box = makeBox([-1, -1, -1], [1, 1, 1]);
  const ort = await ortSession(readFileSync(at('q.onnx')));
  let worst = 0;
  // one point a run: the file keeps the source's batch of one
  const xs = samplePoints(box, 2000, mulberry32(9)).map(Math.fround);
  for (let s = 0; s < 2000; s++) {
    const x = xs.subarray(3 * s, 3 * s + 3);
    const y = await ort(x, [1, 3]);
    const yf = forward(net, x);
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - yf[i]));
  }
  assert.ok(worst <= cert.epsilon, `onnxruntime is ${worst} from the original, more than the claim ${cert.epsilon}`);
  assert.ok(worst > 0, 'int8 weights change the function somewhat');
});

test('check re-proves both parts of a prune --quantize certificate and refuses one whose claim is tighter than them', async () => {
  const ok = await runCli(['check', at('q.onnx.certificate.json'), '--json', '--report', at('e2e.html')], { cwd: dir, timeoutMs: 180_000 });
  assert.equal(ok.code, 0, ok.stderr);
  const r = JSON.parse(ok.stdout) as { check: { claim: string; prune: { claim: string; verdict: { status: string } }; quantize: { verdict: { status: string } } } };
  assert.equal(r.check.prune.verdict.status, 'proved');
  assert.equal(r.check.quantize.verdict.status, 'proved');
  // the report: the end-to-end claim first, then each part with its own verdict (the page's data says the same)
  const html = readFileSync(at('e2e.html'), 'utf8');
  for (const id of ['claim', 'prune-part', 'quantize-claim']) assert.match(html, new RegExp(`<section id="${id}">`));
  assert.ok(html.includes(r.check.prune.claim.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')), 'the prune part names its claim');
  assert.match(html, /prune and quantise certificate: PROVED/);
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, 'self-contained');
  const cert = JSON.parse(readFileSync(at('q.onnx.certificate.json'), 'utf8')) as { epsilon: number };
  writeFileSync(at('tight.certificate.json'), JSON.stringify({ ...cert, epsilon: cert.epsilon / 2 }));
  const tight = await runCli(['check', at('tight.certificate.json')], { cwd: dir, timeoutMs: 60_000 });
  assert.equal(tight.code, 2, tight.stderr);
  assert.equal(tight.stderr.trim().split('\n').length, 1);
  assert.match(tight.stderr, /is less than the parts'/);
});

test('prune --quantize refuses a class claim in one line, writing nothing', async () => {
  const cls = await runCli(['prune', at('f.json'), '--domain', '-1,-1,-1:1,1,1', '-o', at('c.onnx'), '--quantize', 'float16', '--preserve-class', 'argmax'], { cwd: dir, timeoutMs: 60_000 });
  assert.equal(cls.code, 2, cls.stderr);
  assert.match(cls.stderr, /a class claim does not add up/);
  assert.equal(existsSync(at('c.onnx')) || existsSync(at('c.pruned.onnx')), false);
});

test('pruneAndQuantize (the library): float16, and checkCertificate re-proves the end-to-end claim', async () => {
  writeFileSync(at('s.json'), jsonNetworkText(plantedNetwork(26, [3, 8, 8, 6, 2]).net));
  const r = await pruneAndQuantize(loadModel(at('s.json')), { output: at('s.onnx'), domain: makeBox([-1, -1, -1], [1, 1, 1]), maxBoxes: 2000, quantize: { to: 'float16' } });
  assert.ok(r.epsilon > 0 && r.epsilon === r.certificate.epsilon);
  assert.ok(existsSync(r.pruned) && existsSync(at('s.onnx.certificate.json')));
  const c = await checkCertificate(at('s.onnx.certificate.json'));
  assert.equal(c.kind, 'prune-quantize');
  assert.equal(c.status, 'proved');
});
