/**
 * Every file reader refuses bad input with one short line that names the place (issue 25): huge sizes before any
 * allocation, deep nesting without recursion, FIFOs and devices without blocking, huge files without reading them,
 * bad tokens quoted short and escaped, and the inputs that used to be accepted wrongly.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
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

const BIN = fileURLToPath(new URL('../bin/nnshrink.js', import.meta.url));
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

test('NNet: hex numbers and data after the last bias are refused, naming the line', () => {
  const hex = nnetWith((l) => {
    l[FIRST_WEIGHT_LINE - 1] = l[FIRST_WEIGHT_LINE - 1].replace(/^[^,]+/, '0x10');
    return l;
  });
  refused(() => parseNNet(hex, 'hex.nnet'), new RegExp(`^hex\\.nnet:${FIRST_WEIGHT_LINE}: value 1 '0x10' is not a number`));
  for (const tok of ['0b1', '0o7', '1_000', '']) {
    const t = nnetWith((l) => {
      l[FIRST_WEIGHT_LINE - 1] = l[FIRST_WEIGHT_LINE - 1].replace(/^[^,]+/, tok);
      return l;
    });
    refused(() => parseNNet(t, 'n.nnet'), new RegExp(`^n\\.nnet:${FIRST_WEIGHT_LINE}: value 1 '${tok}' is not a number`));
  }
  const extra = nnetWith((l) => [...l, '0.5,']);
  const n = nnetLines.length;
  refused(() => parseNNet(extra, 'extra.nnet'), new RegExp(`^extra\\.nnet:${n + 1}: data after the last bias \\(line ${n}`));
  // the well-formed file still reads, decimal exponents and all
  assert.equal(parseNNet(nnetWith((l) => l), 'ok.nnet').raw.layers.length, 2);
  assert.equal(parseNNet(nnetWith((l) => [...l.slice(0, 8), l[8].replace(/^[^,]+/, '-1.5e-3'), ...l.slice(9)]), 'e.nnet').normalized.layers[0].weights[0], -1.5e-3);
  void SIZES_LINE;
});

test('JSON: an inputSize of 1e12 is refused before allocation, naming the field and the size (also from the CLI)', () => {
  const obj = JSON.parse(jsonNetworkText(net));
  obj.inputSize = 1e12;
  const text = JSON.stringify(obj);
  refused(() => parseJsonNetwork(text, 'big.json'), /^big\.json: layer 1: weight row 1 has 3 values, expected 1000000000000 \("inputSize"\)/);
  cliRefuses(file('big.json', text), /big\.json: layer 1: weight row 1 has 3 values, expected 1000000000000 \("inputSize"\)/);
});

test('JSON: null where a number is expected is refused naming the field', () => {
  const base = (): Record<string, unknown> & { layers: Array<{ weights: unknown[][]; bias: unknown[] }> } =>
    JSON.parse(jsonNetworkText(net, { domain: makeBox([-1, -1, -1], [1, 1, 1]) }));
  const lo = base();
  (lo.domain as { lo: unknown[] }).lo[1] = null;
  refused(() => parseJsonNetwork(JSON.stringify(lo), 'd.json'), /^d\.json: "domain"\.lo\[1\] is null, expected a number/);
  const nul = base();
  nul.domain = null;
  refused(() => parseJsonNetwork(JSON.stringify(nul), 'd.json'), /^d\.json: "domain" must be an object .* not null/);
  const short = base();
  (short.domain as { hi: unknown[] }).hi = [1, 1];
  refused(() => parseJsonNetwork(JSON.stringify(short), 'd.json'), /^d\.json: "domain"\.hi has 2 values but the network has 3 inputs/);
  const w = base();
  w.layers[1].weights[0][2] = null;
  refused(() => parseJsonNetwork(JSON.stringify(w), 'w.json'), /^w\.json: layer 2: weight \[0,2\] is null, expected a number/);
  const b = base();
  b.layers[0].bias[3] = null;
  refused(() => parseJsonNetwork(JSON.stringify(b), 'b.json'), /^b\.json: layer 1: bias 4 is null, expected a number/);
  const empty = base();
  empty.layers[0] = { weights: [], bias: [], activation: [] } as never;
  refused(() => parseJsonNetwork(JSON.stringify(empty), 'e.json'), /^e\.json: layer 1: "weights" is empty/);
});

test('VNN-LIB: nesting 100,000 deep is a clean error with the file and line, not a stack overflow; 900 deep reads', () => {
  const HEAD = '(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 1))\n';
  const nest = (d: number): string => `${HEAD}(assert ${'(and '.repeat(d)}(<= Y_0 0)${')'.repeat(d)})\n`;
  refused(() => parseVnnlib(nest(100_000), 'deep.vnnlib'), new RegExp(`^deep\\.vnnlib:5: parentheses nested more than ${MAX_VNNLIB_DEPTH} deep`));
  const ok = parseVnnlib(nest(900), 'ok.vnnlib');
  assert.equal(ok.regions.length, 1);
  assert.equal(ok.regions[0].unsafe[0].length, 1);
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

test('non-regular files (FIFO, device) are refused at once; files over the size limit are not read', { skip: process.platform === 'win32' }, () => {
  const fifo = join(dir, 'pipe.nnet');
  const mk = spawnSync('mkfifo', [fifo]);
  assert.equal(mk.status, 0, `mkfifo: ${mk.stderr}`);
  cliRefuses(fifo, /pipe\.nnet: is a FIFO \(named pipe\), expected a regular file/);
  refused(() => readInputFile(fifo), /pipe\.nnet: is a FIFO/);
  refused(() => readInputFile('/dev/zero'), /^\/dev\/zero: is a character device, expected a regular file/);
  refused(() => readInputFile(dir), /is a directory, expected a regular file/);
  const big = join(dir, 'huge.vnnlib');
  writeFileSync(big, '');
  truncateSync(big, MAX_INPUT_BYTES + 1); // sparse: nothing is written
  refused(() => readInputFile(big), new RegExp(`huge\\.vnnlib: too large \\(${MAX_INPUT_BYTES + 1} bytes; input files are limited to ${MAX_INPUT_BYTES} bytes`));
});

test('a file of NUL bytes or one enormous token gives a short escaped line from every reader (also from the CLI)', () => {
  const nul = '\0'.repeat(200_000);
  const long = 'A'.repeat(200_000);
  for (const text of [nul, long, `é${nul}`]) {
    refused(() => parseNNet(text, 'z.nnet'), /^z\.nnet:1: value 1 '(\\x00|A|\\xc3\\xa9)+…' is not a number$/);
    refused(() => parseVnnlib(text, 'z.vnnlib'), /^z\.vnnlib:1: /);
    refused(() => parseJsonNetwork(text, 'z.json'), /^z\.json: not valid JSON/);
    refused(() => parseOnnx(Buffer.from(text), 'z.onnx'), /^z\.onnx: /);
    refused(() => parseInstances(text, 'z.csv', dir, dir), /^z\.csv:1: expected model,property\[,timeout\] but got '(\\x00|A|\\xc3\\xa9)+…'$/);
  }
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
});

test('ONNX: two outputs, no output, opset 0 and 99, a second input, a bad Transpose perm, external data', () => {
  refused(() => parseOnnx(badOnnx({ outputs: ['y', 'h'] }), 'two.onnx'), /^two\.onnx: the graph has 2 outputs \('y', 'h'\); nnshrink reads networks with exactly one/);
  refused(() => parseOnnx(badOnnx({ outputs: [] }), 'none.onnx'), /^none\.onnx: the graph has 0 outputs; nnshrink reads networks with exactly one/);
  const range = `supported: ${OPSET_MIN} to ${OPSET_MAX}`;
  refused(() => parseOnnx(badOnnx({ opset: 0 }), 'o0.onnx'), new RegExp(`^o0\\.onnx: opset 0 is not supported \\(${range}\\)`));
  refused(() => parseOnnx(badOnnx({ opset: 99 }), 'o99.onnx'), new RegExp(`^o99\\.onnx: opset 99 is not supported \\(${range}\\)`));
  refused(() => parseOnnx(badOnnx({ opset: null }), 'onone.onnx'), new RegExp(`^onone\\.onnx: declares no opset for the default ONNX domain \\(${range}\\)`));
  refused(() => parseOnnx(badOnnx({ secondInput: 'extra_in' }), 'in2.onnx'), /^in2\.onnx: graph input 'extra_in' is a second data input \(after 'x'\)/);
  refused(() => parseOnnx(badOnnx({ perm: [0, 5] }), 'perm.onnx'), /^perm\.onnx: node 'tr' \(Transpose\): perm \[0,5\] is not a permutation of the 2 axes of shape \[1,3\]/);
  refused(() => parseOnnx(badOnnx({ perm: [1, 1] }), 'perm.onnx'), /^perm\.onnx: node 'tr' \(Transpose\): perm \[1,1\] is not a permutation/);
  refused(() => parseOnnx(badOnnx({ external: true }), 'ext.onnx'), /^ext\.onnx: tensor 'W' keeps its data in an external file, which is not supported/);
  // the same graph without the defect reads (each case above differs from it in one thing)
  assert.equal(parseOnnx(badOnnx({}), 'ok.onnx').network.inputSize, 3);
  assert.equal(parseOnnx(badOnnx({ perm: [1, 0] }), 'ok.onnx').network.inputSize, 3);
});

test('ONNX: an input shape too large for the identity the data path starts from is refused naming the input', () => {
  refused(() => parseOnnx(badOnnx({ inShape: [1, 1_000_000_000_000] }), 'wide.onnx'), /^wide\.onnx: input 'x' of shape \[1,1000000000000\] has 1000000000000 values \(at most 4096 are supported\)/);
});

test('--domain boxes: infinite or NaN bounds are refused saying a box needs finite bounds', () => {
  for (const spec of ['-inf,0:1,1', '0,0:inf,1', '0,Infinity:1,1', '0,0:1,-Infinity', 'nan,0:1,1', '0,0:1,NaN', '0,0:1,1e999']) {
    refused(() => parseBoxSpec(spec, 2), /^--domain: '[^']+' is not a finite number: a box needs finite bounds$/);
  }
  refused(() => parseBoxSpec('0x1,0:1,1', 2), /^--domain: '0x1' is not a number$/);
  assert.deepEqual(Array.from(parseBoxSpec('-1,-.5:1e0,+2', 2).lo), [-1, -0.5]);
});
