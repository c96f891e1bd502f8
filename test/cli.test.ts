/** The command line as a user meets it: real processes, one-line errors with exit code 2, no partial outputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nnetText } from '../src/formats/nnet.ts';
import { modelBytes } from '../src/formats/load.ts';
import { encodeModel, ONNX_FLOAT } from '../src/formats/onnx-schema.ts';
import { floatTensor, valueInfo } from '../src/formats/onnx-write.ts';
import { randomNetwork } from './helpers/nets.ts';
import { makeBox } from '../src/model/box.ts';
import { forward } from '../src/model/network.ts';
import { SKIP_SHARED, sharedPath } from './helpers/shared.ts';

const BIN = fileURLToPath(new URL('../bin/nnshrink-dev.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-cli-'));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const net = randomNetwork(3, [3, 6, 4, 2]);
const good = join(dir, 'good.nnet');
writeFileSync(good, nnetText(net, { domain: makeBox([-1, -1, -1], [1, 1, 1]) }));

function expectError(r: ReturnType<typeof run>, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.err})`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.err}`);
  assert.match(lines[0], /^nnshrink: error: /);
  assert.match(lines[0], pattern);
  assert.ok(!/\bat .*\(.*:\d+:\d+\)/.test(r.err), 'no stack trace');
}

test('info, eval and convert work on a generated NNet and on the default', () => {
  const i = run('info', good, '--json');
  assert.equal(i.code, 0, i.err);
  const info = JSON.parse(i.out);
  assert.equal(info.parameters, 3 * 6 + 6 + 6 * 4 + 4 + 4 * 2 + 2);
  const e = run('eval', good, '--input', '0.1,0.2,-0.3', '--json');
  assert.equal(e.code, 0, e.err);
  assert.equal(JSON.parse(e.out)[0].output.length, 2);
  const c = run('convert', good, join(dir, 'good.onnx'));
  assert.equal(c.code, 0, c.err);
  const e2 = run('eval', join(dir, 'good.onnx'), '--input', '0.1,0.2,-0.3', '--json');
  const a = JSON.parse(e.out)[0].output;
  const b = JSON.parse(e2.out)[0].output;
  a.forEach((v: number, k: number) => assert.ok(Math.abs(v - b[k]) < 1e-5));
  assert.equal(run('info', '--default').code, 0);
  // many inputs: the domain as the ranges that occur, not hundreds of numbers
  const wide = join(dir, 'wide.nnet');
  writeFileSync(wide, nnetText(randomNetwork(4, [40, 3, 2]), { domain: makeBox(new Array(40).fill(0).map((_, j) => (j < 30 ? 0 : -1)), new Array(40).fill(1)) }));
  const w = run('info', wide);
  assert.equal(w.code, 0, w.err);
  assert.match(w.out, /domain: 30 inputs in \[0, 1\], 10 inputs in \[-1, 1\]\n/);
});

const lines = readFileSync(good, 'utf8').split('\n');
const cases: Array<[string, string, RegExp]> = [
  ['truncated.nnet', lines.slice(0, lines.length - 4).join('\n'), /truncated\.nnet: file ends early/],
  ['header.nnet', lines.map((l, i) => (i === 2 ? '3,6,4,2,2,' : l)).join('\n'), /header\.nnet:3: layer sizes \(numLayers 3 \+ 1\): expected 4 values, found 5/],
  ['token.nnet', lines.map((l, i) => (i === 9 ? l.replace(/^[^,]+/, 'abc') : l)).join('\n'), /token\.nnet:10: value 1 'abc' is not a number/],
  ['nan.nnet', lines.map((l, i) => (i === 9 ? l.replace(/^[^,]+/, 'NaN') : l)).join('\n'), /nan\.nnet:10: value 1 is NaN/],
  ['inf.nnet', lines.map((l, i) => (i === 9 ? l.replace(/^[^,]+/, 'Infinity') : l)).join('\n'), /inf\.nnet:10: value 1 is Infinity/],
  ['dims.nnet', lines.map((l, i) => (i === 1 ? '3,3,6,2,3,' : l)).join('\n'), /dims\.nnet:3: last layer size 2 != outputSize 6 in the header/],
  ['row.nnet', lines.map((l, i) => (i === 20 ? l + '0.5,' : l)).join('\n'), /row\.nnet:21: layer 2 weights of neuron 1: expected 6 values, found 7/],
];

for (const [name, text, pattern] of cases) {
  test(`bad input: ${name}`, () => {
    writeFileSync(join(dir, name), text);
    const out = join(dir, `${name}.out.onnx`);
    expectError(run('convert', join(dir, name), out), pattern);
    assert.ok(!existsSync(out), 'no output file');
  });
}

test('bad input: missing file, unknown extension, wrong --input size, bad --domain', () => {
  expectError(run('info', join(dir, 'nope.nnet')), /nope\.nnet: no such file/);
  writeFileSync(join(dir, 'x.txt'), 'hello');
  expectError(run('info', join(dir, 'x.txt')), /x\.txt: unknown model format \(supported extensions: \.nnet, \.onnx, \.json\)/);
  expectError(run('eval', good, '--input', '1,2'), /input 1 has 2 values but .*good\.nnet takes 3/);
  const out = join(dir, 'p.onnx');
  expectError(run('prune', good, '--domain', '0,0,0:1,-1,1', '-o', out), /--domain: domain coordinate 1 is empty \(lo 0 > hi -1\)/);
  expectError(run('prune', good, '--domain', '0,0:1,1', '-o', out), /--domain: the domain has 2 coordinates but the network has 3 inputs/);
  expectError(run('prune', good, '--domain', '0,a,0:1,1,1', '-o', out), /--domain: 'a' is not a number/);
  assert.ok(!existsSync(out));
  expectError(run('frobnicate'), /unknown command 'frobnicate'/);
  expectError(run('info', good, '--bogus'), /info: unknown option '--bogus'/);
});

test('bad input: dimension mismatch between layers (JSON) and an unsupported ONNX operator', () => {
  const j = { format: 'nnshrink-network', version: 1, inputSize: 2, layers: [{ weights: [[1, 2], [3, 4]], bias: [0, 0], activation: ['relu', 'relu'] }, { weights: [[1, 2, 3]], bias: [0], activation: ['identity'] }] };
  writeFileSync(join(dir, 'mis.json'), JSON.stringify(j));
  expectError(run('info', join(dir, 'mis.json')), /mis\.json: layer 2: weight row 1 has 3 values, expected 2/);
  const bytes = encodeModel({
    ir_version: 8,
    graph: {
      name: 'g',
      // Erf: read by neither reader (Sigmoid is read as a graph network since issue 26)
      node: [{ op_type: 'MatMul', name: 'mm', input: ['x', 'W'], output: ['m'] }, { op_type: 'Erf', name: 'sig', input: ['m'], output: ['y'] }],
      initializer: [floatTensor('W', [2, 2], [1, 2, 3, 4], 'float32')],
      input: [valueInfo('x', ONNX_FLOAT, [1, 2])],
      output: [valueInfo('y', ONNX_FLOAT, [1, 2])],
    },
    opset_import: [{ domain: '', version: 13 }],
  });
  writeFileSync(join(dir, 'sig.onnx'), bytes);
  expectError(run('info', join(dir, 'sig.onnx')), /sig\.onnx: node 'sig' \(Erf\): unsupported operator Erf/);
});

test('prune on the default writes an ONNX file, or an NNet file with its linear neurons as ReLU pairs, and certificates that check re-proves', () => {
  const out = join(dir, 'd.onnx');
  const r = run('prune', '--default', '--domain', '0,0,0,0,0:1,1,1,1,1', '-o', out, '--json');
  assert.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out);
  assert.equal(res.finalCheck.verdict.status, 'proved');
  assert.ok(res.after.reluNeurons < res.before.reluNeurons);
  const c = run('check', `${out}.certificate.json`, '--json');
  assert.equal(c.code, 0, c.err);
  assert.equal(JSON.parse(c.out).ok, true);
  assert.ok(res.after.reluNeurons < res.after.neurons, 'the pruned default network has linear hidden neurons');
  // NNet has only ReLU hidden neurons: a linear one is stored as a ReLU pair, twice the size, so always-active
  // neurons stay ReLUs unless the linear ones (re-expressed on a basis of their layer) store fewer parameters
  const d2 = run('prune', '--default', '--domain', '0,0,0,0,0:1,1,1,1,1', '-o', join(dir, 'd.nnet'), '--json');
  assert.equal(d2.code, 0, d2.err);
  const resD = JSON.parse(d2.out);
  assert.ok(resD.keptAsRelu > 0 && resD.after.reluNeurons === resD.after.neurons && resD.after.parameters < res.after.parameters * 2, d2.out);
  // ten always-active neurons of 12 on 2 inputs: a basis of 3, stored as 3 pairs, beats 10 ReLUs
  const pn = randomNetwork(5, [2, 12, 4, 2]);
  for (let j = 0; j < 12; j++) pn.layers[0].bias[j] = j < 10 ? 3 + j * 0.1 : 0;
  for (let r = 0; r < 4; r++) pn.layers[1].bias[r] = -pn.layers[1].weights.subarray(r * 12, r * 12 + 12).reduce((s, w, j) => s + w * pn.layers[0].bias[j], 0);
  const pj = join(dir, 'pairs.json');
  writeFileSync(pj, modelBytes(pn, 'json', { domain: makeBox([-1, -1], [1, 1]) }) as string);
  const nn = join(dir, 'd.nnet');
  const r2 = run('prune', pj, '-o', nn, '--json');
  assert.equal(r2.code, 0, r2.err);
  const res2 = JSON.parse(r2.out);
  assert.equal(res2.finalCheck.verdict.status, 'proved');
  assert.ok(res2.keptAsRelu === undefined && res2.after.reluNeurons < res2.after.neurons, r2.out);
  assert.equal(res2.stored.neurons, res2.after.neurons + (res2.after.neurons - res2.after.reluNeurons));
  const info = run('info', nn, '--json');
  assert.equal(JSON.parse(info.out).neurons, res2.stored.neurons, info.out);
  const c2 = run('check', `${nn}.certificate.json`, '--json');
  assert.equal(c2.code, 0, c2.err);
  assert.equal(JSON.parse(c2.out).ok, true);
  const direct = JSON.parse(run('eval', pj, '--input', '0.1,-0.7', '--json').out)[0].output;
  const viaNnet = JSON.parse(run('eval', nn, '--input', '0.1,-0.7', '--json').out)[0].output;
  direct.forEach((v: number, i: number) => assert.ok(Math.abs(v - viaNnet[i]) < 1e-9));
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
});

test('a tampered output makes check fail', () => {
  const out = join(dir, 't.json');
  assert.equal(run('prune', '--default', '--domain', '0,0,0,0,0:1,1,1,1,1', '-o', out).code, 0);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  j.layers[0].bias[0] += 0.5;
  writeFileSync(out, JSON.stringify(j));
  expectError(run('check', `${out}.certificate.json`), /t\.json: the network differs from the one the certificate describes/);
});

test('equiv pairs a pruned network with its original through its certificate: layer by layer, though the shapes differ', () => {
  const orig = join(dir, 'orig.json');
  assert.equal(run('convert', '--default', orig).code, 0);
  const dom = '0,0,0,0,0:0.3,0.3,0.3,0.3,0.3';
  const pruned = join(dir, 'pe.onnx');
  const p = run('prune', orig, '--domain', dom, '--epsilon', '0.05', '--max-boxes', '1000', '--timeout', '120', '-o', pruned, '--json');
  assert.equal(p.code, 0, p.err);
  const res = JSON.parse(p.out);
  assert.ok(res.after.neurons < res.before.neurons, 'the pruned network has another shape');
  // exit codes: proved 0, refuted 1 (docs/exit-codes.md)
  const eq = (...args: string[]) => {
    const r = run('equiv', orig, pruned, '--domain', dom, ...args, '--json');
    const j = JSON.parse(r.out);
    assert.equal(r.code, j.result === 'refuted' ? 1 : j.result === 'unknown' ? 3 : 0, r.err);
    return j;
  };
  const proved = eq('--epsilon', '0.05', '--timeout', '20');
  assert.equal(proved.result, 'proved');
  assert.match(proved.method, /paired through .*pe\.onnx\.certificate\.json/);
  // a tighter epsilon: refuted, and the witness really separates the two files by more
  const ref = eq('--epsilon', '1e-6');
  assert.equal(ref.result, 'refuted');
  const ya = JSON.parse(run('eval', orig, '--input', ref.witness.join(','), '--json').out)[0].output;
  const yb = JSON.parse(run('eval', pruned, '--input', ref.witness.join(','), '--json').out)[0].output;
  assert.ok(ya.some((v: number, i: number) => Math.abs(v - yb[i]) > 1e-6));
  // the bound tightens over 5,000 boxes, the same on any machine (the clock is only a safety net; 2 s once gave 0.067)
  const bound = eq('--epsilon', '0', '--max-boxes', '5000', '--timeout', '600');
  assert.ok(bound.provedMaxDiff >= bound.foundMaxDiff && bound.provedMaxDiff <= 0.05, JSON.stringify(bound));
  // the product method still treats them as strangers; a certificate of other networks is refused
  assert.doesNotMatch(eq('--epsilon', '0.05', '--method', 'product', '--timeout', '1').method, /paired/);
  const other = join(dir, 'other.onnx');
  assert.equal(run('prune', '--default', '--domain', dom, '-o', other).code, 0);
  expectError(run('equiv', orig, pruned, '--domain', dom, '--epsilon', '0.05', '--certificate', `${other}.certificate.json`), /describes other networks than A and B/);
  expectError(run('equiv', orig, pruned, '--domain', dom, '--epsilon', '0.05', '--certificate', `${pruned}.certificate.json`, '--method', 'product'), /--certificate goes with --method certificate/);
});

test('slice on a VNN-LIB domain of two boxes: cuts at their faces first, slices proved on the parts they hold, inputs between the boxes refused', () => {
  const prop = join(dir, 'two-boxes.vnnlib');
  const lines = [0, 1, 2, 3, 4].map((i) => `(declare-const X_${i} Real)`);
  const rest = [2, 3, 4].map((i) => `(>= X_${i} 0.0) (<= X_${i} 0.5)`).join(' ');
  lines.push(`(assert (or (and (>= X_0 0.0) (<= X_0 0.2) (>= X_1 0.0) (<= X_1 0.5) ${rest}) (and (>= X_0 0.35) (<= X_0 0.5) (>= X_1 0.1) (<= X_1 0.5) ${rest})))`);
  lines.push('(declare-const Y_0 Real)', '(assert (<= Y_0 -1000.0))');
  writeFileSync(prop, lines.join('\n') + '\n');
  const fam = join(dir, 'family2');
  const onnx = join(dir, 'family2.onnx');
  const r = run('slice', '--default', '--vnnlib', prop, '--max-slices', '6', '--timeout', '0.3', '-o', fam, '--onnx', onnx, '--jobs', '1', '--json');
  assert.equal(r.code, 0, r.err);
  assert.ok(JSON.parse(r.out).familyCheck.maxAbsDiff < 1e-9);
  const manifest = JSON.parse(readFileSync(join(fam, 'family.json'), 'utf8'));
  assert.equal(manifest.regions.length, 2);
  assert.deepEqual(manifest.root, { lo: [0, 0, 0, 0, 0], hi: [0.5, 0.5, 0.5, 0.5, 0.5] });
  // the first cut separates the boxes at one of their faces
  const faces = ['0:0.2', '0:0.35', '1:0.1'];
  assert.ok(faces.includes(`${manifest.tree.dim}:${manifest.tree.at}`), JSON.stringify(manifest.tree).slice(0, 80));
  // every slice's certificate states a domain inside the two boxes
  const inside = (b: { lo: number[]; hi: number[] }): boolean =>
    manifest.regions.some((g: { lo: number[]; hi: number[] }) => b.lo.every((l, i) => l >= g.lo[i] && b.hi[i] <= g.hi[i]));
  for (const sl of manifest.slices) {
    const cert = JSON.parse(readFileSync(join(fam, sl.certificate), 'utf8'));
    assert.ok(cert.domain.every(inside), JSON.stringify(cert.domain).slice(0, 200));
  }
  // points of both boxes, on their faces too: the family gives the original's outputs, the directory and ONNX alike
  const pts = [
    [0.1, 0.3, 0.2, 0.4, 0.1],
    [0.2, 0.0, 0.5, 0.5, 0.0],
    [0.35, 0.1, 0.1, 0.2, 0.3],
    [0.45, 0.5, 0.25, 0.25, 0.25],
  ];
  const csv = join(dir, 'pts2.csv');
  writeFileSync(csv, pts.map((x) => x.join(',')).join('\n') + '\n');
  const a = JSON.parse(run('eval', fam, '--input-file', csv, '--json').out);
  const b = JSON.parse(run('eval', onnx, '--input-file', csv, '--json').out);
  const d = JSON.parse(run('eval', '--default', '--input-file', csv, '--json').out);
  pts.forEach((_, k) => {
    assert.equal(a[k].slice, b[k].slice);
    a[k].output.forEach((v: number, i: number) => assert.ok(Math.abs(v - d[k].output[i]) < 1e-9 && v === b[k].output[i]));
  });
  // between the boxes (inside their hull) and in the hull's corner the first box does not reach
  for (const x of ['0.3,0.2,0.2,0.2,0.2', '0.4,0.05,0.2,0.2,0.2']) {
    expectError(run('eval', fam, '--input', x), /lies in none of the family's 2 domain boxes/);
    expectError(run('eval', onnx, '--input', x), /lies in none of the family's 2 domain boxes/);
  }
  // verify on the family (directory and ONNX file): the verdicts of the original (the family is exact), the
  // counterexample real through the dispatcher; a property reaching between the boxes cannot be unsat
  const orig = join(dir, 'orig2.json');
  assert.equal(run('convert', '--default', orig).code, 0);
  const property = (x0hi: number, out: string): string => {
    const p = join(dir, `p-${x0hi}-${out.length}.vnnlib`);
    const ls = [0, 1, 2, 3, 4].map((i) => `(declare-const X_${i} Real)`).concat([0, 1, 2].map((i) => `(declare-const Y_${i} Real)`));
    ls.push(`(assert (>= X_0 0.0))`, `(assert (<= X_0 ${x0hi}))`);
    for (let i = 1; i < 5; i++) ls.push(`(assert (>= X_${i} 0.0))`, `(assert (<= X_${i} 0.5))`);
    ls.push(out);
    writeFileSync(p, ls.join('\n') + '\n');
    return p;
  };
  const verdict = (m: string, p: string) => {
    const r = run('verify', m, p, '--timeout', '10', ...(m === orig ? [] : ['--jobs', '2']), '--json');
    const j = JSON.parse(r.out);
    assert.equal(r.code, { unsat: 0, sat: 1, unknown: 3 }[j.result as string], r.err);
    return j;
  };
  for (const out of ['(assert (>= Y_0 Y_1))', '(assert (<= Y_0 Y_1))', '(assert (>= Y_0 1000.0))']) {
    const p = property(0.2, out);
    const want = verdict(orig, p).result;
    assert.notEqual(want, 'unknown');
    for (const m of [fam, onnx]) {
      const got = verdict(m, p);
      assert.equal(got.result, want, `${m} ${out}`);
      if (got.result === 'sat') {
        const y = JSON.parse(run('eval', m, '--input', got.counterexample.x.join(','), '--json').out)[0].output;
        assert.deepEqual(y, got.counterexample.y);
      }
    }
  }
  const between = verdict(fam, property(0.5, '(assert (>= Y_0 1000.0))'));
  assert.equal(between.result, 'unknown');
  assert.match(between.reason, /outside the family's domain/);
  // check FAMILY: every slice certificate re-proved, and each covers what the dispatcher sends its slice; a
  // certificate whose domain no longer covers its slice's box fails the family
  const ck = run('check', fam, '--json');
  assert.equal(ck.code, 0, ck.err);
  assert.equal(JSON.parse(ck.out).slices.length, manifest.slices.length);
  const certPath = join(fam, manifest.slices[0].certificate);
  const cert = JSON.parse(readFileSync(certPath, 'utf8'));
  cert.domain[0].hi[4] = cert.domain[0].lo[4] + 0.5 * (cert.domain[0].hi[4] - cert.domain[0].lo[4]);
  writeFileSync(certPath, JSON.stringify(cert));
  // refused either way: as not covering its box (1), or as a certificate whose fields no longer agree (2, naming it)
  const bad = run('check', fam);
  if (bad.code === 2) assert.ok(bad.err.includes(manifest.slices[0].certificate), bad.err);
  else {
    assert.equal(bad.code, 1, bad.err);
    assert.match(bad.out, /NOT PROVED: 1 of \d+ slices[\s\S]*slice 0: its certificate's domain does not cover its box/);
  }
});

test('slice from the command line: a VNN-LIB box, a family directory and ONNX file, eval through the dispatcher', () => {
  const prop = join(dir, 'box.vnnlib');
  const lines = ['(declare-const X_0 Real)', '(declare-const X_1 Real)', '(declare-const X_2 Real)', '(declare-const X_3 Real)', '(declare-const X_4 Real)'];
  for (let i = 0; i < 5; i++) lines.push(`(assert (>= X_${i} 0.0))`, `(assert (<= X_${i} 0.5))`);
  lines.push('(declare-const Y_0 Real)', '(assert (<= Y_0 -1000.0))');
  writeFileSync(prop, lines.join('\n') + '\n');
  const fam = join(dir, 'family');
  const r = run('slice', '--default', '--vnnlib', prop, '--max-slices', '4', '--timeout', '0.3', '-o', fam, '--onnx', join(dir, 'family.onnx'), '--jobs', '1', '--json');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.slices, 4);
  assert.equal(s.fallbackSlices, 0);
  assert.ok(s.familyCheck.maxAbsDiff < 1e-9);
  const manifest = JSON.parse(readFileSync(join(fam, 'family.json'), 'utf8'));
  assert.equal(manifest.slices.length, 4);
  const viaFamily = JSON.parse(run('eval', fam, '--input', '0.1,0.2,0.3,0.4,0.25', '--json').out);
  const direct = JSON.parse(run('eval', '--default', '--input', '0.1,0.2,0.3,0.4,0.25', '--json').out);
  viaFamily[0].output.forEach((v: number, i: number) => assert.ok(Math.abs(v - direct[0].output[i]) < 1e-9));
  expectError(run('eval', fam, '--input', '0.9,0.2,0.3,0.4,0.25'), /outside/);
  // the single ONNX file reads back as the same family: same slice and output for points on and off the cuts
  const cuts: Array<{ dim: number; at: number }> = [];
  const walk = (t: { dim?: number; at?: number; left?: unknown; right?: unknown }): void => {
    if (t.dim === undefined) return;
    cuts.push({ dim: t.dim, at: t.at! });
    walk(t.left as object);
    walk(t.right as object);
  };
  walk(manifest.tree);
  const pts: number[][] = [];
  for (let k = 0; k < 24; k++) {
    const x = Array.from({ length: 5 }, (_, i) => (0.5 * ((k * 7 + i * 3) % 11)) / 10);
    if (k < cuts.length) x[cuts[k].dim] = cuts[k].at;
    pts.push(x);
  }
  const csv = join(dir, 'pts.csv');
  writeFileSync(csv, pts.map((x) => x.join(',')).join('\n') + '\n');
  const a = JSON.parse(run('eval', fam, '--input-file', csv, '--json').out);
  const b = JSON.parse(run('eval', join(dir, 'family.onnx'), '--input-file', csv, '--json').out);
  const d = JSON.parse(run('eval', '--default', '--input-file', csv, '--json').out);
  assert.equal(b.length, pts.length);
  b.forEach((row: { slice: number; output: number[] }, k: number) => {
    assert.equal(row.slice, a[k].slice);
    row.output.forEach((v, i) => assert.ok(Math.abs(v - d[k].output[i]) < 1e-9 && v === a[k].output[i]));
  });
  const infoDir = JSON.parse(run('info', fam, '--json').out);
  const infoOnnx = JSON.parse(run('info', join(dir, 'family.onnx'), '--json').out);
  assert.equal(infoDir.slices, 4);
  assert.deepEqual(infoOnnx.perSlice, infoDir.perSlice);
  assert.deepEqual(infoOnnx.domain, infoDir.domain);
  assert.equal(infoDir.source.sizes.reluNeurons, 60);
  expectError(run('bounds', join(dir, 'family.onnx')), /family\.onnx: a slice family in one ONNX file/);
  expectError(run('convert', fam, join(dir, 'x.onnx')), /family: a slice family \(directory\), not one network/);
  // a CSV with a header line of column names: the header is skipped
  const withHeader = join(dir, 'pts-header.csv');
  writeFileSync(withHeader, 'x0,x1,x2,x3,x4\n' + pts.map((x) => x.join(',')).join('\n') + '\n');
  assert.deepEqual(JSON.parse(run('eval', fam, '--input-file', withHeader, '--json').out), a);
});

test('verify, equiv and bounds from the command line: verdicts against sampling, quiet stderr in --json mode', async () => {
  const { forward } = await import('../src/model/network.ts');
  const { samplePoints } = await import('../src/model/box.ts');
  const { mulberry32 } = await import('../src/model/rng.ts');
  const box = makeBox([-1, -1, -1], [1, 1, 1]);
  const xs = samplePoints(box, 20000, mulberry32(4));
  const ys = forward(net, xs, 20000);
  let min = Infinity;
  let max = -Infinity;
  for (let s = 0; s < 20000; s++) {
    min = Math.min(min, ys[2 * s] - ys[2 * s + 1]);
    max = Math.max(max, ys[2 * s]);
  }
  const prop = (t: number): string => {
    const p = join(dir, `p${t}.vnnlib`);
    const lines = ['(declare-const X_0 Real)', '(declare-const X_1 Real)', '(declare-const X_2 Real)', '(declare-const Y_0 Real)', '(declare-const Y_1 Real)'];
    for (let i = 0; i < 3; i++) lines.push(`(assert (>= X_${i} -1))`, `(assert (<= X_${i} 1))`);
    lines.push(`(assert (<= (- Y_0 Y_1) ${t}))`);
    writeFileSync(p, lines.join('\n') + '\n');
    return p;
  };
  // unsafe y0 - y1 <= t: sat just above the sampled minimum (a sample satisfies it), unsat well below it
  const sat = run('verify', good, prop(min + 0.01), '--timeout', '10', '--json');
  assert.equal(sat.code, 1, sat.err);
  assert.equal(sat.err, '');
  const s = JSON.parse(sat.out);
  assert.equal(s.result, 'sat');
  assert.ok(s.counterexample.y[0] - s.counterexample.y[1] <= min + 0.01);
  const unsat = JSON.parse(run('verify', good, prop(min - 1), '--timeout', '10', '--json').out);
  assert.equal(unsat.result, 'unsat');
  // the VNN-COMP result file: the verdict, and for sat an input whose plain evaluation gives the listed outputs
  const res = join(dir, 'result.txt');
  assert.equal(run('verify', good, prop(min + 0.01), '--timeout', '10', '--results', res).code, 1);
  const text = readFileSync(res, 'utf8');
  assert.match(text, /^sat\n\(\(X_0 \S+\)\n \(X_1 \S+\)\n \(X_2 \S+\)\n \(Y_0 \S+\)\n \(Y_1 \S+\)\)\n$/);
  const value = (name: string): number => Number(new RegExp(`\\(${name} ([^)\\s]+)\\)`).exec(text)![1]);
  const cx = [0, 1, 2].map((i) => value(`X_${i}`));
  cx.forEach((v) => assert.ok(v >= -1 && v <= 1));
  const cy = forward(net, Float64Array.from(cx), 1);
  assert.ok(Math.abs(value('Y_0') - cy[0]) < 1e-9 && Math.abs(value('Y_1') - cy[1]) < 1e-9);
  assert.ok(cy[0] - cy[1] <= min + 0.01);
  assert.equal(run('verify', good, prop(min - 1), '--timeout', '10', '--results', res).code, 0);
  assert.equal(readFileSync(res, 'utf8'), 'unsat\n');
  const eq = run('equiv', good, good, '--epsilon', '1e-9', '--timeout', '5', '--json');
  assert.equal(eq.err, '');
  assert.equal(JSON.parse(eq.out).result, 'proved');
  // a network of another shape (pruned here, but equiv is told to ignore its certificate): compared side by side as
  // strangers
  const small = join(dir, 'small.onnx');
  assert.equal(run('prune', good, '--domain', '-1,-1,-1:0,0,0', '-o', small, '--json').code, 0);
  const sizes = (p: string) => JSON.parse(run('info', p, '--json').out).layers.map((l: { out: number }) => l.out).join('x');
  assert.notEqual(sizes(small), sizes(good));
  const st = JSON.parse(run('equiv', good, small, '--domain', '-1,-1,-1:0,0,0', '--epsilon', '1e-3', '--method', 'product', '--timeout', '20', '--json').out);
  assert.equal(st.result, 'proved');
  assert.match(st.method, /^product/);
  // off the pruning domain they differ: a witness, re-checked here
  const off = JSON.parse(run('equiv', good, small, '--domain', '-1,-1,-1:1,1,1', '--epsilon', '1e-3', '--method', 'product', '--timeout', '20', '--json').out);
  assert.equal(off.result, 'refuted');
  const ya = forward(net, Float64Array.from(off.witness), 1);
  const yb = JSON.parse(run('eval', small, '--input', off.witness.join(','), '--json').out)[0].output;
  assert.ok(Math.max(Math.abs(ya[0] - yb[0]), Math.abs(ya[1] - yb[1])) > 1e-3);
  expectError(run('equiv', good, small, '--epsilon', '0', '--method', 'diff'), /--method diff: the networks must have the same layer sizes/);
  const b = run('bounds', good, '--json');
  assert.equal(b.code, 0, b.err);
  const layers = JSON.parse(b.out).layers as Array<{ lo: number[]; hi: number[] }>;
  const out = layers[layers.length - 1];
  assert.ok(out.lo[0] <= max && max <= out.hi[0], `output 0: sampled max ${max} within [${out.lo[0]}, ${out.hi[0]}]`);
  const a = run('bounds', good, '--method', 'alpha', '--json');
  assert.equal(a.code, 0, a.err);
  const al = JSON.parse(a.out).layers as Array<{ lo: number[]; hi: number[] }>;
  const ao = al[al.length - 1];
  assert.ok(ao.lo[0] <= max && max <= ao.hi[0] && ao.hi[0] <= out.hi[0] && ao.lo[0] >= out.lo[0], 'alpha bounds: sound and inside CROWN');
});

test('bounds --max / --min: an enclosure that holds the sampled optimum, one-line errors for bad objectives', async () => {
  const { forward } = await import('../src/model/network.ts');
  const { samplePoints } = await import('../src/model/box.ts');
  const { mulberry32 } = await import('../src/model/rng.ts');
  const xs = samplePoints(makeBox([-1, -1, -1], [1, 1, 1]), 20000, mulberry32(5));
  const ys = forward(net, xs, 20000);
  let max = -Infinity;
  let min = Infinity;
  for (let s = 0; s < 20000; s++) {
    max = Math.max(max, ys[2 * s]);
    min = Math.min(min, ys[2 * s] - 2 * ys[2 * s + 1]);
  }
  const hi = run('bounds', good, '--max', '3:0', '--precision', '1e-4', '--relative-precision', '0', '--json');
  assert.equal(hi.code, 0, hi.err);
  assert.equal(hi.err, '');
  const h = JSON.parse(hi.out);
  assert.equal(h.status, 'proved');
  assert.ok(h.value >= max - 1e-9 && h.bound >= h.value && h.bound - h.value <= 1e-4, `max ${max} in [${h.value}, ${h.bound}]`);
  assert.equal(forward(net, Float64Array.from(h.witness))[0], h.value);
  const lo = run('bounds', good, '--min', '3=1,-2');
  assert.equal(lo.code, 0, lo.err);
  const m = /minimum in \[(\S+), (\S+)\]: proved/.exec(lo.out);
  assert.ok(m, lo.out);
  assert.ok(Number(m[1]) <= min && Number(m[2]) <= min + 1e-9, `min ${min} vs ${lo.out}`);
  expectError(run('bounds', good, '--max', '9:0'), /layer 9 does not exist/);
  expectError(run('bounds', good, '--max', '3=1,2,3'), /3 coefficients for layer 3, which has 2 neurons/);
  expectError(run('bounds', good, '--max', '2:7'), /neuron '7' of layer 2/);
  expectError(run('bounds', good, '--max', 'y0'), /expected LAYER:INDEX/);
  expectError(run('bounds', good, '--max', '3:0', '--min', '3:1'), /either --max or --min/);
});

/**
 * Checks a phase verdict from the command line (JSON: phase and witnesses) of neuron (k, i), layers from 0, against
 * 20,000 samples of the test network's box: never / always only where no sample disagrees, 'both' wherever the
 * samples show both signs, witnesses that really have the signs they claim.
 */
async function checkPhaseAgainstSamples(seed: number): Promise<(p: { phase: string; activeWitness?: number[]; inactiveWitness?: number[] }, k: number, i: number) => void> {
  const { forwardTrace } = await import('../src/model/network.ts');
  const { samplePoints } = await import('../src/model/box.ts');
  const { mulberry32 } = await import('../src/model/rng.ts');
  const N = 20000;
  const tr = forwardTrace(net, samplePoints(makeBox([-1, -1, -1], [1, 1, 1]), N, mulberry32(seed)), N);
  return (p, k, i) => {
    const m = net.layers[k].outSize;
    let pos = false;
    let neg = false;
    for (let s = 0; s < N; s++) {
      const z = tr.pre[k][s * m + i];
      if (z > 0) pos = true;
      if (z < 0) neg = true;
    }
    const what = `neuron ${k + 1}:${i}`;
    if (p.phase === 'never') assert.ok(!pos, what);
    if (p.phase === 'always') assert.ok(!neg, what);
    if (pos && neg) assert.equal(p.phase, 'both', what);
    if (p.phase === 'both') {
      assert.ok(forwardTrace(net, Float64Array.from(p.activeWitness!), 1).pre[k][i] > 0, what);
      assert.ok(forwardTrace(net, Float64Array.from(p.inactiveWitness!), 1).pre[k][i] < 0, what);
    }
  };
}

test('bounds --phase: the verdict agrees with 20,000 samples, witnesses re-evaluate, bad neurons are one-line errors', async () => {
  const check = await checkPhaseAgainstSamples(6);
  for (let i = 0; i < 6; i++) {
    const r = run('bounds', good, '--phase', `1:${i}`, '--json');
    const p = JSON.parse(r.out);
    assert.equal(r.code, p.phase === 'unknown' ? 3 : 0, r.err);
    check(p, 0, i);
  }
  const text = run('bounds', good, '--phase', '2:0');
  assert.match(text.out, /^neuron 0 of layer 2: (never active|always active|both|unknown)/);
  expectError(run('bounds', good, '--phase', '3:0'), /output layer/);
  expectError(run('bounds', good, '--phase', '2=1,0,0,0'), /expected LAYER:INDEX/);
  expectError(run('bounds', good, '--phase', '2:9'), /neuron '9' of layer 2/);
});

test('bounds --census: the phase of every neuron agrees with 20,000 samples, witnesses re-evaluate, the same with 1 or 2 workers', async () => {
  const check = await checkPhaseAgainstSamples(8);
  const one = run('bounds', good, '--census', '--jobs', '1', '--json');
  const two = run('bounds', good, '--census', '--jobs', '2', '--json');
  assert.equal(one.code, 0, one.err);
  assert.equal(two.code, 0, two.err);
  const c = JSON.parse(one.out);
  assert.deepEqual(JSON.parse(two.out).counts, c.counts);
  assert.equal(c.neurons.length, 10);
  for (const np of c.neurons) check(np, np.layer - 1, np.index);
  const total = c.counts.never + c.counts.always + c.counts.both + c.counts.unknown;
  assert.equal(total, 10);
  const text = run('bounds', good, '--census');
  assert.match(text.out, /^layer 1: 6 neurons: never active \d+/);
  assert.match(text.out, /\nall: never active \d+, always active \d+, both \d+, unknown \d+\n$/);
  expectError(run('bounds', good, '--census', '--phase', '1:0'), /--census alone/);
});

test('a reader that closes the output early (| head) ends the command quietly, exit code 0', async () => {
  const child = spawn(process.execPath, [BIN, 'info', '--default', '--json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(err, '');
  assert.equal(code, 0);
});

test('values that start with a minus: --domain -1,.. and --input -0.5,.. are values, --timeout -3 a bad number', () => {
  const spaced = run('bounds', good, '--domain', '-1,-1,-1:0.5,0.5,0.5', '--json');
  assert.equal(spaced.code, 0, spaced.err);
  const layers = (out: string): unknown => JSON.parse(out).layers;
  assert.deepEqual(layers(spaced.out), layers(run('bounds', good, '--domain=-1,-1,-1:0.5,0.5,0.5', '--json').out));
  assert.notDeepEqual(layers(spaced.out), layers(run('bounds', good, '--json').out), 'not the file\'s own domain');
  const e = run('eval', good, '--input', '-0.5,0.1,-0.2', '--json');
  assert.equal(e.code, 0, e.err);
  assert.equal(JSON.parse(e.out)[0].output.length, 2);
  const p = join(dir, 'minus.vnnlib');
  const decl = ['X_0', 'X_1', 'X_2', 'Y_0', 'Y_1'].map((v) => `(declare-const ${v} Real)`);
  writeFileSync(p, [...decl, ...[0, 1, 2].map((i) => `(assert (>= X_${i} -1))\n(assert (<= X_${i} 1))`), '(assert (<= Y_0 -1000))'].join('\n') + '\n');
  expectError(run('verify', good, p, '--timeout', '-3'), /--timeout: '-3' is not a number/);
  expectError(run('verify', good, p, '--results', join(dir, 'no-such-dir', 'r.txt')), /no-such-dir.*cannot write/);
  assert.equal(run('verify', good, p, '--timeout', '5').out, 'unsat\n');
});

test('verify --instances: a VNN-COMP list side by side, the same verdicts on one or two threads, result files, bad rows', () => {
  const decl = ['X_0', 'X_1', 'X_2', 'Y_0', 'Y_1'].map((v) => `(declare-const ${v} Real)`);
  const box = [0, 1, 2].map((i) => `(assert (>= X_${i} -1))\n(assert (<= X_${i} 1))`);
  const props = join(dir, 'props');
  mkdirSync(props, { recursive: true });
  // y0 <= -1000 cannot happen on the box (unsat); y0 <= y(0) holds at x = 0 itself (sat)
  const y0 = forward(net, new Float64Array(3), 1)[0];
  writeFileSync(join(props, 'never.vnnlib'), [...decl, ...box, '(assert (<= Y_0 -1000))'].join('\n') + '\n');
  writeFileSync(join(props, 'here.vnnlib'), [...decl, ...box, `(assert (<= Y_0 ${y0 + 1e-6}))`].join('\n') + '\n');
  const list = join(props, 'instances.csv');
  writeFileSync(list, `${good},never.vnnlib,10\n\n${good},here.vnnlib\n`);
  const outs = [1, 2].map((jobs) => {
    const rd = join(dir, `rd${jobs}`);
    mkdirSync(rd, { recursive: true });
    const r = run('verify', '--instances', list, '--jobs', String(jobs), '--results-dir', rd, '--json');
    assert.equal(r.code, 0, r.err);
    const files = readdirSync(rd).sort();
    return { verdicts: JSON.parse(r.out).map((x: { result: string }) => x.result), files, never: readFileSync(join(rd, files[1]), 'utf8') };
  });
  assert.deepEqual(outs[0].verdicts, ['unsat', 'sat']);
  assert.deepEqual(outs[1].verdicts, outs[0].verdicts);
  assert.deepEqual(outs[0].files, ['good_here.txt', 'good_never.txt']);
  assert.equal(outs[0].never, 'unsat\n');
  writeFileSync(list, `${good},never.vnnlib,10\n${good}\n`);
  expectError(run('verify', '--instances', list), /instances\.csv:2: expected model,property/);
  writeFileSync(list, `${good},missing.vnnlib\n`);
  expectError(run('verify', '--instances', list), /instances\.csv:1: .*missing\.vnnlib: no such file/);
  writeFileSync(list, `${good},never.vnnlib,-5\n`);
  expectError(run('verify', '--instances', list), /instances\.csv:1: the timeout '-5'/);
  // one instance: its split tree's steps on one or two threads, the same answer and boxes
  for (const name of ['never.vnnlib', 'here.vnnlib']) {
    const [one, two] = ['1', '2'].map((j) => run('verify', good, join(props, name), '--jobs', j, '--json'));
    assert.equal(one.code, name === 'here.vnnlib' ? 1 : 0, one.err);
    const strip = (o: string): unknown => ({ ...JSON.parse(o), timeMs: 0 });
    assert.deepEqual(strip(two.out), strip(one.out));
  }
  expectError(run('verify', good, join(props, 'never.vnnlib'), '--jobs', '0'), /--jobs: '0' is not a whole number >= 1/);
});

test('a certificate names its files relative to itself: check works from any directory and after moving them together', () => {
  const sub = join(dir, 'certs');
  mkdirSync(sub, { recursive: true });
  // relative paths, as a user types them in the working directory
  const r = run('prune', 'good.nnet', '--domain', '-1,-1,-1:1,1,1', '-o', join('certs', 'rel.onnx'));
  assert.equal(r.code, 0, r.err);
  const cert = JSON.parse(readFileSync(join(sub, 'rel.onnx.certificate.json'), 'utf8'));
  assert.equal(cert.input.path, join('..', 'good.nnet'));
  assert.equal(cert.output.path, 'rel.onnx');
  const elsewhere = spawnSync(process.execPath, [BIN, 'check', join(sub, 'rel.onnx.certificate.json')], { encoding: 'utf8', cwd: tmpdir() });
  assert.equal(elsewhere.status, 0, elsewhere.stderr);
  assert.match(elsewhere.stdout, /^PROVED/);
});

test('MNIST 256x2, class-preserving prune on a VNN-COMP ball: the class is kept as written in ONNX, re-proved by check and by equiv on the two files', { skip: SKIP_SHARED }, () => {
  const model = sharedPath('mnist', 'onnx', 'mnist-net_256x2.onnx');
  const prop = sharedPath('mnist', 'vnnlib', 'prop_2_0.03.vnnlib');
  const out = join(dir, 'mnist-class.onnx');
  const exact = run('prune', model, '--vnnlib', prop, '-o', join(dir, 'mnist-exact.onnx'), '--timeout', '2', '--json');
  assert.equal(exact.code, 0, exact.err);
  // the tolerance search's changes leave no ReLU here; the written network is linear, 784 -> 6 -> 10 (fewer
  // parameters than one 784 -> 10 layer), which the ONNX reader once read back as a single layer, failing the check
  const r = run('prune', model, '--vnnlib', prop, '--preserve-class', 'argmax', '-o', out, '--timeout', '2', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.after.reluNeurons < JSON.parse(exact.out).after.reluNeurons, `argmax keeps ${j.after.reluNeurons} ReLUs`);
  assert.ok(j.toleranceSearch.accepted > 0);
  const check = run('check', `${out}.certificate.json`);
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /^PROVED/);
  // equiv on the two files (different shapes), as strangers: A's winner is proved unique on the ball, then B shown
  // to keep it; and paired through the certificate prune wrote next to B (the default)
  const eq = run('equiv', model, out, '--vnnlib', prop, '--same-class', 'argmax', '--method', 'product', '--timeout', '20', '--json');
  assert.equal(eq.code, 0, eq.err);
  assert.deepEqual([JSON.parse(eq.out).result, JSON.parse(eq.out).method], ['proved', 'winner-kept']);
  const eqc = run('equiv', model, out, '--vnnlib', prop, '--same-class', 'argmax', '--timeout', '20', '--json');
  assert.equal(eqc.code, 0, eqc.err);
  assert.equal(JSON.parse(eqc.out).result, 'proved');
  assert.match(JSON.parse(eqc.out).method, /paired through/);
});

test('equiv --same-class with many inputs (same shapes, diff method): A\'s margins let ReLU splitting on B prove what input splitting cannot', async () => {
  const { randomBox } = await import('./helpers/nets.ts');
  const { applyEdits, emptyEdits, REMOVED } = await import('../src/simplify/edits.ts');
  const a = randomNetwork(1, [40, 12, 12, 4]);
  const box = randomBox(8, 40, 0.2);
  const e = emptyEdits(a);
  e.state[1][0] = REMOVED;
  const b = applyEdits(a, e).g;
  const pa = join(dir, 'many-a.json');
  const pb = join(dir, 'many-b.json');
  writeFileSync(pa, modelBytes(a, 'json', { domain: box }) as string);
  writeFileSync(pb, modelBytes(b, 'json', { domain: box }) as string);
  const r = run('equiv', pa, pb, '--same-class', 'argmax', '--timeout', '20', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual([j.result, j.method], ['proved', 'relu-split'], r.out);
});

test('equiv of an NNet file with normalisation against its normalised ONNX copy: refuted in raw units with a note on units, proved with --view normalized', () => {
  // good.nnet with input means / ranges and an output scale: raw and normalised views are different functions
  const scaledLines = readFileSync(good, 'utf8').split('\n');
  scaledLines[6] = '0.5,0,-0.25,1,';
  scaledLines[7] = '2,1,4,3,';
  const scaled = join(dir, 'scaled.nnet');
  writeFileSync(scaled, scaledLines.join('\n'));
  const norm = join(dir, 'scaled-norm.onnx');
  const c = run('convert', scaled, norm, '--view', 'normalized', '--precision', 'float64');
  assert.equal(c.code, 0, c.err);
  const raw = run('equiv', scaled, norm, '--epsilon', '1e-6', '--domain', '-1,-1,-1:1,1,1');
  assert.equal(raw.code, 1, raw.err);
  assert.match(raw.out, /^refuted/);
  assert.match(raw.err, /note: A is an NNet file read in raw units .* compare with --view normalized/);
  const viewed = run('equiv', scaled, norm, '--epsilon', '1e-6', '--domain', '-1,-1,-1:1,1,1', '--view', 'normalized', '--json');
  assert.equal(viewed.code, 0, viewed.err);
  const v = JSON.parse(viewed.out);
  assert.equal(v.result, 'proved');
  assert.equal(v.note, undefined);
  // the same network on both sides in one format: no note
  const same = run('equiv', scaled, scaled, '--epsilon', '0', '--domain', '-1,-1,-1:1,1,1');
  assert.doesNotMatch(same.err, /note/);
});

/** The default network as a file, a property on it over its domain [-1, 1]^5, and a copy with output 0 moved by 0.01. */
function defaultFiles(): { net: string; shifted: string; prop: (assertion: string) => string } {
  const netPath = join(dir, 'exit-default.json');
  if (!existsSync(netPath)) assert.equal(run('convert', '--default', netPath).code, 0);
  const j = JSON.parse(readFileSync(netPath, 'utf8'));
  j.layers[j.layers.length - 1].bias[0] += 0.01;
  const shifted = join(dir, 'exit-shifted.json');
  writeFileSync(shifted, JSON.stringify(j));
  let k = 0;
  const prop = (assertion: string): string => {
    const p = join(dir, `exit-prop-${k++}.vnnlib`);
    const ls = [0, 1, 2, 3, 4].map((i) => `(declare-const X_${i} Real)`).concat([0, 1, 2].map((i) => `(declare-const Y_${i} Real)`));
    for (let i = 0; i < 5; i++) ls.push(`(assert (>= X_${i} -1))`, `(assert (<= X_${i} 1))`);
    ls.push(assertion);
    writeFileSync(p, ls.join('\n') + '\n');
    return p;
  };
  return { net: netPath, shifted, prop };
}

test('exit codes of verify: 0 unsat, 1 sat (re-checked counterexample), 3 unknown at a tiny time limit', () => {
  const { net: m, prop } = defaultFiles();
  const unsat = run('verify', m, prop('(assert (>= Y_0 1000000))'), '--timeout', '10');
  assert.equal(unsat.code, 0, unsat.err);
  assert.equal(unsat.out, 'unsat\n');
  const sat = run('verify', m, prop('(assert (>= Y_0 -1000000))'), '--timeout', '10', '--json');
  assert.equal(sat.code, 1, sat.err);
  assert.equal(JSON.parse(sat.out).result, 'sat');
  // y0 - y1 >= 5 on the whole box: after 5 s the proved maximum of y0 - y1 is 10.3 and the largest found 1.25,
  // so 0.05 s decides nothing on any machine
  const open = run('verify', m, prop('(assert (>= (- Y_0 Y_1) 5))'), '--timeout', '0.05');
  assert.equal(open.code, 3, open.err);
  assert.equal(open.out, 'unknown\n');
});

test('exit codes of equiv: 0 proved, 1 refuted, 3 unknown at a tiny time limit', () => {
  const { net: a, shifted: b } = defaultFiles();
  const proved = run('equiv', a, b, '--epsilon', '0.02', '--timeout', '20', '--json');
  assert.equal(proved.code, 0, proved.err);
  assert.equal(JSON.parse(proved.out).result, 'proved');
  const refuted = run('equiv', a, b, '--epsilon', '0.001', '--timeout', '20', '--json');
  assert.equal(refuted.code, 1, refuted.err);
  assert.equal(JSON.parse(refuted.out).result, 'refuted');
  // A against itself as strangers (the product): nothing to refute, and 1e-6 is far from what 0.05 s can prove
  const open = run('equiv', a, a, '--method', 'product', '--epsilon', '1e-6', '--timeout', '0.05', '--json');
  assert.equal(open.code, 3, open.err);
  assert.equal(JSON.parse(open.out).result, 'unknown');
});

test('exit codes of bounds --max: 0 within the precision, 3 when the time runs out first; verify --instances: 0 for mixed verdicts', () => {
  const { net: m, prop } = defaultFiles();
  const coarse = run('bounds', m, '--max', '4:0', '--precision', '1e6', '--json');
  assert.equal(coarse.code, 0, coarse.err);
  assert.equal(JSON.parse(coarse.out).status, 'proved');
  const exact = run('bounds', m, '--max', '4=1,-1,0', '--precision', '0', '--relative-precision', '0', '--timeout', '0.05', '--json');
  assert.equal(exact.code, 3, exact.err);
  assert.equal(JSON.parse(exact.out).status, 'unknown');
  const list = join(dir, 'exit-instances.csv');
  writeFileSync(list, `${m},${prop('(assert (>= Y_0 1000000))')},10\n${m},${prop('(assert (>= Y_0 -1000000))')},10\n`);
  const r = run('verify', '--instances', list, '--jobs', '1', '--json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out).map((x: { result: string }) => x.result), ['unsat', 'sat']);
});

test("exit codes of prune's final check: refuted 1, not proved 3, a contradicting sample (a bug) 4, nothing else changed", async () => {
  const { finalCheckExit } = await import('../src/cli/common.ts');
  const { FinalCheckFailed } = await import('../src/simplify/certify.ts');
  const { NnsError } = await import('../src/errors.ts');
  const codeOf = (e: Error): number => {
    try {
      finalCheckExit(e);
    } catch (x) {
      return x instanceof NnsError && x.code !== 'bad-input' ? x.exitCode : -1;
    }
    return -2;
  };
  assert.equal(codeOf(new FinalCheckFailed('final check failed: a counterexample', 'refuted')), 1);
  assert.equal(codeOf(new FinalCheckFailed('final check failed: the verifier gave up', 'unknown')), 3);
  assert.equal(codeOf(new FinalCheckFailed('final check failed: sampling contradicts the proof', 'contradicted')), 4);
  assert.equal(codeOf(new NnsError('final check failed: a message alone decides nothing')), -1);
  assert.equal(codeOf(new NnsError('x.onnx: no such file')), -1, 'other input errors stay exit 2');
});

test('an internal error exits 4 with one escaped line of at most 300 characters; help and usage state the codes', async () => {
  const { main, registerCommand } = await import('../src/cli/main.ts');
  registerCommand({ name: 'boom', summary: 'test', usage: 'boom', options: {}, run: () => { throw new Error('bad\u0000\u001b[31m\n'.repeat(10_000)); } });
  const written: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  (process.stderr as { write: unknown }).write = (s: string) => (written.push(String(s)), true);
  let code: number;
  try {
    code = await main(['boom']);
  } finally {
    (process.stderr as { write: unknown }).write = orig;
  }
  assert.equal(code, 4);
  const text = written.join('');
  assert.equal(text.split('\n').length, 2, 'one line');
  const line = text.trimEnd();
  assert.ok(Array.from(line).length <= 300, `${line.length} characters`);
  assert.match(line, /^nnshrink: internal error: bad\\x00\\x1b\[31m\\x0abad/);
  assert.ok(!/[\u0000-\u001f]/.test(line));
  const help = run('--help');
  assert.match(help.out, /Exit codes: 0 .*1 refuted.*\n.*2 bad input, 3 unknown.*4 internal error/);
  assert.match(run('verify', '--help').out, /exit codes: 0 unsat, 1 sat .*3 unknown/);
  assert.match(run('equiv', '--help').out, /exit codes: 0 proved .*1 refuted .*3 unknown/);
});

test('strict options: whole numbers, bounded slices, --view, repeated options and extra arguments are one-line errors', () => {
  const out = join(dir, 'strict-family');
  expectError(run('slice', '--default', '--levels', '1.5', '-o', out), /--levels: '1\.5' is not a whole number/);
  expectError(run('slice', '--default', '--levels', '4', '-o', out), /--levels: '4' over 5 inputs means up to 2\^20 slices, more than the maximum, 65536/);
  expectError(run('slice', '--default', '--max-slices', '1e9', '-o', out), /--max-slices: '1e9' is more than the maximum, 65536/);
  expectError(run('slice', '--default', '--max-slices', '2.5', '-o', out), /--max-slices: '2\.5' is not a whole number/);
  expectError(run('bounds', '--default', '--jobs', '1.5'), /--jobs: '1\.5' is not a whole number >= 1/);
  expectError(run('prune', '--default', '--seed', '0x10', '-o', join(dir, 'strict.onnx')), /--seed: '0x10' is not a whole number/);
  expectError(run('bounds', '--default', '--timeout', '0x10', '--max', '4:0'), /--timeout: '0x10' is not a number/);
  for (const cmd of [['info', '--default'], ['eval', '--default', '--input', '0,0,0,0,0'], ['equiv', good, good, '--epsilon', '0'], ['verify', good, good]]) {
    expectError(run(...cmd, '--view', 'bogus'), /--view: 'bogus' \(expected raw or normalized\)/);
  }
  expectError(run('bounds', good, '--timeout', '1', '--timeout', '2', '--max', '3:0'), /bounds: --timeout is given more than once/);
  expectError(run('prune', good, '-o', 'a.onnx', '-o', 'b.onnx'), /prune: -o is given more than once/);
  expectError(run('info', good, 'extra'), /info: unexpected argument 'extra'/);
  expectError(run('equiv', good, good, 'third', '--epsilon', '0'), /equiv: unexpected argument 'third'/);
  expectError(run('convert', good, join(dir, 'c.onnx'), 'more.onnx'), /convert: unexpected argument 'more\.onnx'/);
  expectError(run('convert', '--default', join(dir, 'c.onnx'), 'more.onnx'), /convert: unexpected argument 'more\.onnx'/);
  expectError(run('verify', good, 'p.vnnlib', 'q.vnnlib'), /verify: unexpected argument 'q\.vnnlib'/);
  assert.ok(!existsSync(out) && !existsSync(join(dir, 'c.onnx')));
});

test('--jobs above the cores is capped with a note (none with --json)', async () => {
  const { availableParallelism } = await import('node:os');
  const cores = availableParallelism();
  const r = run('bounds', '--default', '--max', '4:0', '--precision', '1e6', '--jobs', '1000');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`note: --jobs 1000 is more than the ${cores} cores; using ${cores}`));
  const j = run('bounds', '--default', '--max', '4:0', '--precision', '1e6', '--jobs', '1000', '--json');
  assert.equal(j.code, 0, j.err);
  assert.equal(j.err, '');
});

test('values that start with a minus are values: -inf, -Infinity, -nan are refused as bounds, -.5 and -1e3 read', () => {
  for (const v of ['-inf', '-Infinity', '-nan']) {
    const r = run('bounds', '--default', '--domain', `${v},0,0,0,0:1,1,1,1,1`);
    expectError(r, new RegExp(`--domain: '${v}'`));
    assert.doesNotMatch(r.err, /ambiguous/);
  }
  for (const v of ['-.5', '-1e3']) {
    const r = run('bounds', '--default', '--domain', `${v},0,0,0,0:1,1,1,1,1`, '--json');
    assert.equal(r.code, 0, r.err);
  }
  // a known option after a value option is still an option
  expectError(run('bounds', '--default', '--domain', '-h'), /--domain/);
});
