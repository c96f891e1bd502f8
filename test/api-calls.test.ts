/**
 * The library's command calls (src/api/) against the CLI: prune (a chain and a graph), quantize and slice give the
 * same files (the same network hash, the same claim) as the commands, checkCertificate re-proves every kind of
 * certificate as `check` does, an abort from the progress callback rejects with code `aborted` and writes nothing,
 * and errors carry their code, file and place.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCertificate, defaultModel, equiv, loadAnyModel, loadModel, makeBox, networkHash, NnsError, prune, quantize, saveModel, slice, type Progress } from '../src/index.ts';
import { pytorchCnn, PRUNABLE_CNN_DEAD, PYTORCH_CNN_INPUT } from '../src/demo/cnn.ts';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { cliIn } from './helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-api-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string): string => join(dir, f);
const cli = cliIn(dir);
const HALF = '0,0,0,0,0:0.5,0.5,0.5,0.5,0.5';
const half = makeBox([0, 0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5, 0.5]);
const json = (f: string): { output: { sha256: string }; claim?: string; tolerance: unknown } => JSON.parse(readFileSync(at(f), 'utf8'));

test('prune of a chain: the API writes what the CLI writes (network hash, claim), and check re-proves both', async () => {
  // exact: the tolerance search has a time budget (its result may depend on the pace); the census a box limit
  const c = await cli('prune', '--default', '--domain', HALF, '--max-boxes', '20000', '--timeout', '60', '--jobs', '1', '-o', 'cli.onnx', '--json');
  assert.equal(c.code, 0, c.err);
  const r = await prune(defaultModel(), { domain: half, maxBoxes: 20_000, timeoutMs: 60_000, output: at('api.onnx') });
  assert.equal(r.kind, 'chain');
  const [a, b] = [json('cli.onnx.certificate.json'), json('api.onnx.certificate.json')];
  assert.equal(r.certificate.output.sha256, a.output.sha256, 'the same pruned network');
  assert.equal(b.output.sha256, a.output.sha256);
  assert.deepEqual(b.tolerance, a.tolerance);
  assert.deepEqual(r.summary.after, JSON.parse(c.out).after);
  const checked = await checkCertificate(at('api.onnx.certificate.json'), { timeoutMs: 60_000 });
  assert.equal(checked.kind, 'chain');
  assert.equal(checked.status, 'proved');
  const ck = await cli('check', 'cli.onnx.certificate.json', '--json');
  assert.equal(ck.code, 0, ck.err);
  assert.equal(JSON.parse(ck.out).check.claim, checked.claim);
});

test('prune of a graph (a CNN with dead channels): the same channels removed and the same file as the CLI; check proves it', async () => {
  writeFileSync(at('dead.onnx'), pytorchCnn({ dead: PRUNABLE_CNN_DEAD }));
  const n = PYTORCH_CNN_INPUT.reduce((x, y) => x * y, 1);
  const spec = `${new Array(n).fill(0.48).join(',')}:${new Array(n).fill(0.5).join(',')}`;
  const c = await cli('prune', 'dead.onnx', '--domain', spec, '-o', 'gcli.onnx', '--timeout', '10', '--json');
  assert.equal(c.code, 0, c.err);
  const r = await prune(loadAnyModel(at('dead.onnx')), { domain: makeBox(new Array(n).fill(0.48), new Array(n).fill(0.5)), timeoutMs: 10_000, output: at('gapi.onnx') });
  assert.equal(r.kind, 'graph');
  const j = JSON.parse(c.out);
  assert.equal(r.summary.removed, j.removed);
  assert.ok(r.summary.removed > 0, 'some channel goes');
  assert.deepEqual(r.summary.channels, j.channels);
  assert.equal(json('gapi.onnx.certificate.json').output.sha256, json('gcli.onnx.certificate.json').output.sha256);
  const checked = await checkCertificate(at('gapi.onnx.certificate.json'), { timeoutMs: 60_000 });
  assert.equal(checked.kind, 'graph');
  assert.equal(checked.status, 'proved');
});

test('equiv on graphs: a CNN against itself is proved, against a copy with one output bias moved by 1 refuted at 0.5', async () => {
  const f = readOnnxGraph((writeFileSync(at('eq.onnx'), pytorchCnn()), at('eq.onnx')));
  const n = PYTORCH_CNN_INPUT.reduce((x, y) => x * y, 1);
  const box = makeBox(new Array(n).fill(0.49), new Array(n).fill(0.5));
  const same = await equiv(f, f, box, { epsilon: 1e-6 }, { timeoutMs: 60_000 });
  assert.equal(same.result, 'proved', JSON.stringify(same));
  const g = structuredClone(f);
  const last = [...g.nodes].reverse().find((node) => node.op === 'dense')!;
  (last.params as { bias: { data: Float64Array } }).bias.data[0] += 1;
  const off = await equiv(f, g, box, { epsilon: 0.5 }, { timeoutMs: 60_000 });
  assert.equal(off.result, 'refuted', JSON.stringify(off));
});

test('quantize: the API writes the CLI\'s file; checkCertificate re-proves the quantisation certificate', async () => {
  const c = await cli('quantize', '--default', '--to', 'int8', '--per-channel', '--epsilon', '2', '--max-boxes', '200', '-o', 'qcli.onnx', '--json');
  assert.equal(c.code, 0, c.err);
  const q = await quantize('<default>', { to: 'int8', perChannel: true, tolerance: { kind: 'linf', epsilon: 2 }, maxBoxes: 200, output: at('qapi.onnx') });
  assert.equal(q.certificate.output.sha256, json('qcli.onnx.certificate.json').output.sha256);
  assert.ok(q.sizes.bytes < q.sizes.float32Bytes);
  const checked = await checkCertificate(at('qapi.onnx.certificate.json'));
  assert.equal(checked.kind, 'quantize');
  assert.equal(checked.status, 'proved');
  // too tight to prove: not-proved, nothing written
  await assert.rejects(
    quantize('<default>', { to: 'int8', tolerance: { kind: 'linf', epsilon: 1e-9 }, maxBoxes: 50, output: at('tight.onnx') }),
    (e: unknown) => e instanceof NnsError && e.code === 'not-proved' && e.exitCode === 3,
  );
  assert.ok(!existsSync(at('tight.onnx')));
});

test('slice: the API family has the CLI family\'s slices (boxes and network files); checkCertificate proves the family', async () => {
  const c = await cli('slice', '--default', '--domain', HALF, '--max-slices', '3', '--timeout', '5', '--jobs', '1', '-o', 'fcli', '--json');
  assert.equal(c.code, 0, c.err);
  const s = await slice(defaultModel(), { domain: half, maxSlices: 3, timeoutMs: 5000, output: at('fapi') });
  assert.equal(s.slices.length, JSON.parse(c.out).slices);
  const names = readdirSync(at('fcli')).filter((f) => /^slice-\d+\.json$/.test(f)).sort();
  assert.deepEqual(readdirSync(at('fapi')).filter((f) => /^slice-\d+\.json$/.test(f)).sort(), names);
  for (const f of names) assert.equal(readFileSync(at(join('fapi', f)), 'utf8'), readFileSync(at(join('fcli', f)), 'utf8'), f);
  const checked = await checkCertificate(at('fapi'), { timeoutMs: 60_000 });
  assert.equal(checked.kind, 'family');
  assert.equal(checked.status, 'proved');
});

/** An abort from the first progress report: the call rejects with an AbortError-like NnsError, nothing written. */
async function abortsAtFirstReport(call: (o: { signal: AbortSignal; onProgress: (p: Progress) => void }) => Promise<unknown>, outputs: string[]): Promise<void> {
  const ac = new AbortController();
  const seen: Progress[] = [];
  await assert.rejects(
    call({ signal: ac.signal, onProgress: (p) => (seen.push(p), ac.abort()) }),
    (e: unknown) => e instanceof NnsError && e.code === 'aborted' && e.name === 'AbortError',
  );
  assert.equal(seen.length, 1, 'no work reported after the abort');
  for (const o of outputs) assert.ok(!existsSync(o), `${o} not written`);
}

test('an abort from onProgress rejects at once with code aborted and leaves no file: prune (chain, graph), slice, check', async () => {
  await abortsAtFirstReport((o) => prune(defaultModel(), { ...o, output: at('ab.onnx') }), [at('ab.onnx'), at('ab.onnx.certificate.json')]);
  const n = PYTORCH_CNN_INPUT.reduce((x, y) => x * y, 1);
  writeFileSync(at('dead2.onnx'), pytorchCnn({ dead: PRUNABLE_CNN_DEAD }));
  await abortsAtFirstReport((o) => prune(loadAnyModel(at('dead2.onnx')), { ...o, domain: makeBox(new Array(n).fill(0), new Array(n).fill(1)), output: at('abg.onnx') }), [at('abg.onnx')]);
  await abortsAtFirstReport((o) => slice(defaultModel(), { ...o, maxSlices: 4, output: at('abf') }), [at('abf')]);
  const done = await prune(defaultModel(), { domain: half, maxBoxes: 20_000, timeoutMs: 60_000, output: at('ok.onnx') });
  assert.equal(done.kind, 'chain');
  await abortsAtFirstReport((o) => checkCertificate(at('ok.onnx.certificate.json'), o), []);
  // aborted before the call: rejected before any work
  await assert.rejects(prune(defaultModel(), { signal: AbortSignal.abort(), output: at('ab2.onnx') }), (e: unknown) => e instanceof NnsError && e.code === 'aborted');
  assert.ok(!existsSync(at('ab2.onnx')));
});

test('errors carry code, file and place; loadModel takes bytes as well as a path', () => {
  writeFileSync(at('bad.nnet'), '2,1,1,2,\n1,1,\n0,\n1,\n0,0,\nnot-a-number\n');
  assert.throws(() => loadModel(at('bad.nnet')), (e: unknown) => e instanceof NnsError && e.code === 'bad-input' && e.file === at('bad.nnet') && e.exitCode === 2 && /^line \d+$/.test(e.place ?? ''));
  assert.throws(() => loadModel(readFileSync(at('bad.nnet')), { path: 'mem.nnet' }), (e: unknown) => e instanceof NnsError && e.file === 'mem.nnet');
  saveModel(defaultModel(), at('d.onnx'));
  const fromBytes = loadModel(readFileSync(at('d.onnx')));
  assert.equal(networkHash(fromBytes.network), networkHash(loadModel(at('d.onnx')).network), 'ONNX bytes read as the file');
  assert.deepEqual(fromBytes.domain, defaultModel().domain, 'with the domain the file stores');
});
