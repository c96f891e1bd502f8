/**
 * Every file reader refuses bad input with one short line that names the place (issue 25): huge sizes before any
 * allocation, deep nesting without recursion, FIFOs and devices without blocking, huge files without reading them,
 * bad tokens quoted short and escaped, and the inputs that used to be accepted wrongly.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_MESSAGE, NnsError, printable, quote } from '../src/errors.ts';
import { parseNNet, nnetText } from '../src/formats/nnet.ts';
import { parseJsonNetwork, jsonNetworkText } from '../src/formats/json.ts';
import { parseOnnx, OPSET_MAX, OPSET_MIN } from '../src/formats/onnx-read.ts';
import { parseVnnlib, MAX_VNNLIB_DEPTH } from '../src/formats/vnnlib.ts';
import { parseInstances } from '../src/formats/instances.ts';
import { MAX_INPUT_BYTES, readInputFile } from '../src/formats/read-text.ts';
import { makeBox, parseBoxSpec } from '../src/model/box.ts';
import { randomNetwork } from './helpers/nets.ts';
import { badOnnx } from './helpers/bad-onnx.ts';

const BIN = fileURLToPath(new URL('../bin/nnshrink-dev.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-bad-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `fn` throws an NnsError of one line, within the length limit, matching `pattern`; returns the message. */
function refused(fn: () => unknown, pattern: RegExp): string {
  let msg = '';
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NnsError, `an NnsError, not ${String(e).slice(0, 200)}`);
    msg = e.message;
    return true;
  });
  assert.ok(!/[\n\r]/.test(msg), `one line: ${msg.slice(0, 400)}`);
  assert.ok(msg.length <= MAX_MESSAGE, `at most ${MAX_MESSAGE} characters, got ${msg.length}: ${msg.slice(0, 400)}`);
  assert.match(msg, pattern);
  return msg;
}

/**
 * `nnshrink info FILE`: exit 2 and one stderr line of at most 300 characters matching `pattern`. The generous time
 * limit only turns a hang (the bug) into a failure; nothing here is timed.
 */
function cliRefuses(file: string, pattern: RegExp): void {
  const r = spawnSync(process.execPath, [BIN, 'info', file], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 20 });
  assert.equal(r.status, 2, `exit code 2 (signal ${r.signal}, stderr ${String(r.stderr).slice(0, 400)})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line: ${r.stderr.slice(0, 400)}`);
  assert.ok(lines[0].length <= 300, `at most 300 characters: ${lines[0].length}`);
  assert.match(lines[0], /^nnshrink: error: /);
  assert.match(lines[0], pattern);
}

const file = (name: string, data: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

const net = randomNetwork(7, [3, 4, 2]);
const nnetLines = nnetText(net, { domain: makeBox([-1, -1, -1], [1, 1, 1]) }).trimEnd().split('\n');
// line numbers (1-based) of the generated file: comment, header, sizes, flag, min, max, mean, range, then weights
const SIZES_LINE = 3;
const FIRST_WEIGHT_LINE = 9;
const nnetWith = (edit: (lines: string[]) => string[]): string => edit(nnetLines.slice()).join('\n') + '\n';

test('NNet: a layer size of 1e12 is refused before allocation, naming the line and the size (also from the CLI)', () => {
  const huge = nnetWith((l) => {
    l[1] = '2,3,2,1000000000000,';
    l[2] = '3,1000000000000,2,';
    return l;
  });
  refused(() => parseNNet(huge, 'big.nnet'), /^big\.nnet: file ends early: the layer sizes on line 3 \(largest 1000000000000\)/);
  cliRefuses(file('big.nnet', huge), /big\.nnet: file ends early: the layer sizes on line 3 \(largest 1000000000000\)/);
  const hugeInput = nnetWith((l) => {
    l[1] = '2,1000000000000,2,1000000000000,';
    l[2] = '1000000000000,4,2,';
    return l;
  });
  refused(() => parseNNet(hugeInput, 'in.nnet'), /^in\.nnet: file ends early: the layer sizes on line 3 \(largest 1000000000000\)/);
});

test('NNet: hex and other non-decimal numbers are refused, naming the line', () => {
  for (const tok of ['0x10', '0b1', '0o7', '1_000']) {
    const t = nnetWith((l) => {
      l[FIRST_WEIGHT_LINE - 1] = l[FIRST_WEIGHT_LINE - 1].replace(/^[^,]+/, tok);
      return l;
    });
    refused(() => parseNNet(t, 'hex.nnet'), new RegExp(`^hex\\.nnet:${FIRST_WEIGHT_LINE}: value 1 '${tok}' is not a number`));
  }
  // the well-formed file still reads, decimal exponents and all
  const e = nnetWith((l) => {
    l[FIRST_WEIGHT_LINE - 1] = l[FIRST_WEIGHT_LINE - 1].replace(/^[^,]+/, '-1.5e-3');
    return l;
  });
  assert.equal(parseNNet(e, 'e.nnet').normalized.layers[0].weights[0], -1.5e-3);
});

test('NNet: data after the last bias is refused, naming its line and the last bias line', () => {
  const n = nnetLines.length;
  refused(() => parseNNet(nnetWith((l) => [...l, '0.5,']), 'extra.nnet'), new RegExp(`^extra\\.nnet:${n + 1}: data after the last bias \\(line ${n}, where the layer sizes on line ${SIZES_LINE} end the file\\)`));
  assert.equal(parseNNet(nnetWith((l) => [...l, '// a comment at the end', '']), 'ok.nnet').raw.layers.length, 2);
});

test('JSON: an inputSize of 1e12 is refused before allocation, naming the field and the size (also from the CLI)', () => {
  const obj = JSON.parse(jsonNetworkText(net));
  obj.inputSize = 1e12;
  const text = JSON.stringify(obj);
  refused(() => parseJsonNetwork(text, 'big.json'), /^big\.json: layer 1: weight row 1 has 3 values, expected 1000000000000 \("inputSize"\)/);
  cliRefuses(file('big.json', text), /big\.json: layer 1: weight row 1 has 3 values, expected 1000000000000 \("inputSize"\)/);
});

type JsonNet = Record<string, unknown> & { domain: { lo: unknown[]; hi: unknown[] } | null; layers: Array<{ weights: unknown[][]; bias: unknown[]; activation: unknown[] }> };
const jsonCases: Array<[string, (o: JsonNet) => void, RegExp]> = [
  ['a null domain bound', (o) => (o.domain!.lo[1] = null), /^d\.json: "domain"\.lo\[1\] is null, expected a number/],
  ['a string domain bound', (o) => (o.domain!.hi[0] = '1'), /^d\.json: "domain"\.hi\[0\] is string, expected a number/],
  ['a null domain', (o) => (o.domain = null), /^d\.json: "domain" must be an object .* not null/],
  ['a short domain', (o) => (o.domain!.hi = [1, 1]), /^d\.json: "domain"\.hi has 2 values but the network has 3 inputs/],
  ['a null weight', (o) => (o.layers[1].weights[0][2] = null), /^d\.json: layer 2: weight \[0,2\] is null, expected a number/],
  ['a null bias', (o) => (o.layers[0].bias[3] = null), /^d\.json: layer 1: bias 4 is null, expected a number/],
  ['an empty layer', (o) => (o.layers[0] = { weights: [], bias: [], activation: [] }), /^d\.json: layer 1: "weights" is empty/],
];
for (const [name, edit, pattern] of jsonCases) {
  test(`JSON network: ${name} is refused naming the field`, () => {
    const o: JsonNet = JSON.parse(jsonNetworkText(net, { domain: makeBox([-1, -1, -1], [1, 1, 1]) }));
    edit(o);
    refused(() => parseJsonNetwork(JSON.stringify(o), 'd.json'), pattern);
  });
}

test('VNN-LIB: nesting 100,000 deep is a clean error with the file and line, not a stack overflow; 900 deep reads', () => {
  const HEAD = '(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 1))\n';
  const nest = (d: number): string => `${HEAD}(assert ${'(and '.repeat(d)}(<= Y_0 0)${')'.repeat(d)})\n`;
  refused(() => parseVnnlib(nest(100_000), 'deep.vnnlib'), new RegExp(`^deep\\.vnnlib:5: parentheses nested more than ${MAX_VNNLIB_DEPTH} deep`));
  const ok = parseVnnlib(nest(900), 'ok.vnnlib');
  assert.equal(ok.regions.length, 1);
  assert.equal(ok.regions[0].unsafe[0].length, 1);
});

test('VNN-LIB: a disjunction whose expansion is too large is refused before it is built', () => {
  const HEAD = '(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 1))\n';
  const many = Array.from({ length: 120 }, (_, i) => `(assert (<= Y_0 ${i + 1}))`).join('\n');
  const or = `(assert (or ${Array.from({ length: 300 }, (_, i) => `(<= Y_0 ${i})`).join(' ')}))`;
  // 300 x 300 = 90,000 cases, within the case limit, of 122 + 2 constraints each: 11 million in all
  refused(() => parseVnnlib(`${HEAD}${many}\n${or}\n${or}\n`, 'or.vnnlib'), /^or\.vnnlib: the property expands to too many cases \(90000 cases of \d+ constraints; at most 100000 cases of 10000000 constraints in all\)/);
  // many plain assertions are one case
  const flat = parseVnnlib(`${HEAD}${Array.from({ length: 20_000 }, (_, i) => `(assert (<= Y_0 ${i}))`).join('\n')}\n`, 'flat.vnnlib');
  assert.equal(flat.regions.length, 1);
  assert.equal(flat.regions[0].unsafe[0].length, 20_000);
});

test('VNN-LIB: a variable of another sort than Real is refused, naming it and the line', () => {
  refused(() => parseVnnlib('(declare-const X_0 Real)\n(declare-const X_1 Int)\n', 'i.vnnlib'), /^i\.vnnlib:2: variable X_1 must be declared Real$/);
});

test('VNN-LIB as a domain (--vnnlib): outputs the network does not have are refused', () => {
  const d = mkdtempSync(join(tmpdir(), 'nns-vout-'));
  try {
    const p = join(d, 'p.vnnlib');
    const decl = [0, 1, 2, 3, 4].map((i) => `(declare-const X_${i} Real)`).concat([0, 1, 2, 3, 4, 5].map((i) => `(declare-const Y_${i} Real)`));
    const bounds = [0, 1, 2, 3, 4].map((i) => `(assert (>= X_${i} 0))\n(assert (<= X_${i} 0.5))`);
    writeFileSync(p, [...decl, ...bounds, '(assert (<= Y_5 0))'].join('\n') + '\n');
    const r = spawnSync(process.execPath, [BIN, 'bounds', '--default', '--vnnlib', p], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /the property has 6 outputs but the network has 3/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('VNN-LIB: an empty input box (lo > hi) names the variable and the lines of its bounds', () => {
  const text = [
    '(declare-const X_0 Real)',
    '(declare-const X_1 Real)',
    '(declare-const Y_0 Real)',
    '(assert (>= X_0 0))',
    '(assert (<= X_0 1))',
    '(assert (>= X_1 2))',
    '(assert (<= X_1 1))',
    '(assert (<= Y_0 0))',
  ].join('\n');
  refused(() => parseVnnlib(text, 'p.vnnlib'), /^p\.vnnlib:7: X_1 has lower bound 2 \(line 6\) above its upper bound 1 \(line 7\): every input case is empty/);
});

const POSIX = { skip: process.platform === 'win32' ? 'POSIX only' : false };

test('a FIFO given as a model is refused at once, not waited on (CLI and reader)', POSIX, () => {
  const fifo = join(dir, 'pipe.nnet');
  const mk = spawnSync('mkfifo', [fifo]);
  assert.equal(mk.status, 0, `mkfifo: ${mk.stderr}`);
  cliRefuses(fifo, /pipe\.nnet: is a FIFO \(named pipe\), expected a regular file$/);
  refused(() => readInputFile(fifo), /pipe\.nnet: is a FIFO \(named pipe\), expected a regular file$/);
});

test('a device (an endless one) or a directory is refused as an input file', POSIX, () => {
  const zero = join(dir, 'zero.nnet');
  symlinkSync('/dev/zero', zero);
  cliRefuses(zero, /zero\.nnet: is a character device, expected a regular file$/);
  refused(() => readInputFile('/dev/zero'), /^\/dev\/zero: is a character device, expected a regular file$/);
  refused(() => readInputFile(dir), /is a directory, expected a regular file$/);
});

test('a file over the size limit is refused without being read', POSIX, () => {
  const big = join(dir, 'huge.vnnlib');
  writeFileSync(big, '');
  truncateSync(big, MAX_INPUT_BYTES + 1); // sparse: nothing is written
  refused(() => readInputFile(big), new RegExp(`huge\\.vnnlib: too large \\(${MAX_INPUT_BYTES + 1} bytes; input files are limited to ${MAX_INPUT_BYTES} bytes, 256 MiB\\)$`));
});

const nul = '\0'.repeat(200_000);
const junk: Array<[string, string]> = [['NUL bytes', nul], ['one enormous token', 'A'.repeat(200_000)], ['non-ASCII then NUL bytes', `é${nul}`]];
const TOKEN = "'(\\\\x00|A|\\\\xc3\\\\xa9)+…'";
const TOKEN_CORE = '(\\\\x00|A|\\\\xc3\\\\xa9)+…';
const jsonWith = (t: string): string => {
  const o = JSON.parse(jsonNetworkText(net));
  o.layers[0].activation[0] = t;
  return JSON.stringify(o);
};
// each reader gets the junk where its messages quote input text
const readers: Array<[string, (text: string) => unknown, RegExp]> = [
  ['NNet', (t) => parseNNet(t, 'z.nnet'), new RegExp(`^z\\.nnet:1: value 1 ${TOKEN} is not a number$`)],
  ['VNN-LIB', (t) => parseVnnlib(`(declare-const ${t} Real)`, 'z.vnnlib'), new RegExp(`^z\\.vnnlib:1: variable ${TOKEN} is not named X_i or Y_j$`)],
  ['JSON', (t) => parseJsonNetwork(jsonWith(t), 'z.json'), new RegExp(`^z\\.json: layer 1: activation 1 is ${TOKEN} \\(expected relu or identity\\)$`)],
  ['ONNX', (t) => parseOnnx(badOnnx({ reluOp: t }), 'z.onnx'), new RegExp(`^z\\.onnx: node 'relu' \\(${TOKEN_CORE}\\): unsupported operator ${TOKEN_CORE} \\(supported: Gemm`)],
  ['instance list', (t) => parseInstances(t, 'z.csv', dir, dir), new RegExp(`^z\\.csv:1: expected model,property\\[,timeout\\] but got ${TOKEN}$`)],
];
for (const [reader, parse, pattern] of readers) {
  test(`${reader}: a file of NUL bytes or one enormous token gives a short escaped line`, () => {
    for (const [what, text] of junk) {
      assert.doesNotThrow(() => refused(() => parse(text), pattern), what);
    }
  });
}

test('a file of NUL bytes from the CLI: one short escaped line, exit 2', () => {
  cliRefuses(file('zeros.nnet', nul), /zeros\.nnet:1: value 1 '(\\x00){10}…' is not a number$/);
});

test('quote and NnsError: short, escaped, one line, the file name kept', () => {
  assert.equal(quote('abc'), "'abc'");
  assert.equal(quote('a\nb\0é'), "'a\\x0ab\\x00\\xc3\\xa9'");
  assert.equal(printable('x'.repeat(100)), 'x'.repeat(40) + '…');
  assert.ok(quote('\0'.repeat(1000)).length <= 44);
  const e = new NnsError(`/${'deep/'.repeat(100)}model.nnet:3: bad\nline\u202e ${'y'.repeat(1000)}`);
  assert.ok(e.message.length <= MAX_MESSAGE, `${e.message.length}`);
  assert.ok(!/[\n\u202e]/.test(e.message));
  assert.match(e.message, /…\/model\.nnet:3: bad\\x0aline\\u\{202e\} y/);
  assert.equal(new NnsError(e.message).message, e.message, 'escaping twice changes nothing');
  const whole = new NnsError(`${dir}/m.nnet:1: value 1 '${'\0'.repeat(1_000_000)}' is not a number`).message;
  assert.ok(whole.length <= MAX_MESSAGE && whole.includes('/m.nnet:1: value 1') && whole.endsWith('is not a number'), whole);
});

const range = `supported: ${OPSET_MIN} to ${OPSET_MAX}`;
const onnxCases: Array<[string, Parameters<typeof badOnnx>[0], RegExp]> = [
  ['two outputs', { outputs: ['y', 'h'] }, /^m\.onnx: the graph has 2 outputs \('y', 'h'\); nnshrink reads networks with exactly one/],
  ['no output', { outputs: [] }, /^m\.onnx: the graph has 0 outputs; nnshrink reads networks with exactly one/],
  ['opset 0', { opset: 0 }, new RegExp(`^m\\.onnx: opset 0 is not supported \\(${range}\\)`)],
  ['opset 99', { opset: 99 }, new RegExp(`^m\\.onnx: opset 99 is not supported \\(${range}\\)`)],
  ['no opset', { opset: null }, new RegExp(`^m\\.onnx: declares no opset for the default ONNX domain \\(${range}\\)`)],
  ['a second input', { secondInput: 'extra_in' }, /^m\.onnx: graph input 'extra_in' is a second data input \(after 'x'\)/],
  ['a Transpose perm out of range', { perm: [0, 5] }, /^m\.onnx: node 'tr' \(Transpose\): perm \[0,5\] is not a permutation of the 2 axes of shape \[1,3\]/],
  ['a Transpose perm with a repeat', { perm: [1, 1] }, /^m\.onnx: node 'tr' \(Transpose\): perm \[1,1\] is not a permutation/],
  ['an operator of another domain', { reluDomain: 'com.example' }, /^m\.onnx: node 'relu' \(Relu\): operator domain 'com\.example' is not supported/],
  ['external tensor data', { external: true }, /^m\.onnx: tensor 'W' keeps its data in an external file, which is not supported/],
  ['an input too large for the identity the data path starts from', { inShape: [1, 1e12] }, /^m\.onnx: input 'x' of shape \[1,1000000000000\] has 1000000000000 values \(at most 4096 are supported\)/],
];
for (const [name, defect, pattern] of onnxCases) {
  test(`ONNX: ${name} is refused with the file and what is wrong`, () => {
    refused(() => parseOnnx(badOnnx(defect), 'm.onnx'), pattern);
  });
}

test('ONNX: the test graph without a defect reads (each case above differs from it in one thing)', () => {
  assert.equal(parseOnnx(badOnnx({}), 'ok.onnx').network.inputSize, 3);
  assert.equal(parseOnnx(badOnnx({ perm: [1, 0] }), 'ok.onnx').network.inputSize, 3);
  assert.equal(parseOnnx(badOnnx({ opset: OPSET_MIN }), 'ok.onnx').network.inputSize, 3);
  assert.equal(parseOnnx(badOnnx({ opset: OPSET_MAX }), 'ok.onnx').network.inputSize, 3);
});

for (const spec of ['-inf,0:1,1', '0,0:inf,1', '0,Infinity:1,1', '0,0:1,-Infinity', 'nan,0:1,1', '0,0:1,NaN', '0,0:1,1e999']) {
  test(`--domain ${spec}: a box needs finite bounds`, () => {
    refused(() => parseBoxSpec(spec, 2), /^--domain: '[^']+' is not a finite number: a box needs finite bounds$/);
  });
}

test('--domain: hex is not a number; decimal forms read', () => {
  refused(() => parseBoxSpec('0x1,0:1,1', 2), /^--domain: '0x1' is not a number$/);
  assert.deepEqual(Array.from(parseBoxSpec('-1,-.5:1e0,+2', 2).lo), [-1, -0.5]);
});
