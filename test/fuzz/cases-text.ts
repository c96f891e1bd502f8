/**
 * Malformed VNN-LIB properties and VNN-COMP instance lists. Cuts and replaced bytes are placed where they must break
 * the file: inside an open parenthesis (VNN-LIB), inside a row's file names (lists: a cut there names a missing file).
 */
import { digitOffsets, enc, JUNK, pickOffsets, range, replaceByte, truncate, type Rng } from './bytes.ts';
import { sources, vnnlibText, N_IN } from './sources.ts';
import { badInput, type FuzzCase, type FileSpec } from './types.ts';

/** bounds reads the property and computes a few bounds; verify reads it beside a network file. */
function propCmd(i: number): { files: Record<string, FileSpec>; argv: string[] } {
  return i % 4 === 3
    ? { files: { 'net.json': sources().json }, argv: ['verify', 'net.json', 'prop.vnnlib', '--timeout', '5'] }
    : { files: {}, argv: ['bounds', '--default', '--vnnlib', 'prop.vnnlib'] };
}

function prop(name: string, kind: string, text: string | Uint8Array, i: number, why: string): FuzzCase {
  const c = propCmd(i);
  return badInput(`vnnlib-${name}`, kind, { ...c.files, 'prop.vnnlib': text }, c.argv, why);
}

/** Offsets after which the text is inside an unclosed parenthesis. */
function openOffsets(text: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (comment) comment = ch !== '\n';
    else if (ch === ';') comment = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (depth > 0) out.push(i + 1);
  }
  return out.filter((at) => at < text.length);
}

const bounds = (lo: number[], hi: number[]): string[] =>
  lo.flatMap((l, i) => [`(assert (>= X_${i} ${l}))`, `(assert (<= X_${i} ${hi[i]}))`]);
const decls = (nIn: number, nOut = 3): string[] => [
  ...range(0, nIn).map((i) => `(declare-const X_${i} Real)`),
  ...range(0, nOut).map((i) => `(declare-const Y_${i} Real)`),
];
const half = new Array(N_IN).fill(-0.5);
const halfHi = new Array(N_IN).fill(0.5);
const OUT = '(assert (>= Y_1 Y_0))';

export function vnnlibCases(rng: Rng, scale: number): FuzzCase[] {
  const text = sources().vnnlib;
  const data = enc(text);
  const out: FuzzCase[] = [];
  for (const [i, at] of pickOffsets(openOffsets(text), 25 * scale, rng).entries()) {
    out.push(prop(`trunc-${at}`, 'truncation', truncate(data, at), i, "cut inside an open '(': unbalanced"));
  }
  const firstLine = text.indexOf('\n');
  const flips = [...digitOffsets(text, firstLine), ...range(firstLine, text.length).filter((i) => text[i] === '(' || text[i] === ')')];
  for (const [i, at] of pickOffsets(flips.sort((a, b) => a - b), 20 * scale, rng).entries()) {
    const b = rng.pick(JUNK);
    out.push(prop(`flip-${at}-${b}`, 'byte-flip', replaceByte(data, at, b), i, 'a digit or parenthesis replaced: an undeclared name, a non-number or unbalanced'));
  }
  const D = 100_000;
  const join = (...parts: string[][]): string => parts.flat().join('\n') + '\n';
  const edits: Array<[string, string, string, string]> = [
    ['nested-and', 'huge-size', join(decls(5), ['(assert ' + '(and '.repeat(D) + '(<= X_0 0.5)' + ')'.repeat(D) + ')'], bounds(half, halfHi), [OUT]), 'an and nested 100,000 deep'],
    ['nested-parens', 'huge-size', join(decls(5), ['('.repeat(D) + ')'.repeat(D)]), 'parentheses nested 100,000 deep'],
    ['nested-or', 'huge-size', join(decls(5), bounds(half, halfHi), ['(assert ' + '(or '.repeat(D) + '(>= Y_1 Y_0)' + ')'.repeat(D) + ')']), 'an or nested 100,000 deep'],
    ['lo-above-hi', 'header-edit', join(decls(5), bounds([0.7, -0.5, -0.5, -0.5, -0.5], [0.2, 0.5, 0.5, 0.5, 0.5]), [OUT]), 'X_0 >= 0.7 and X_0 <= 0.2: an empty box'],
    ['unbounded-input', 'header-edit', join(decls(5), bounds(half, halfHi).slice(0, 7), [OUT]), 'X_3 and X_4 have no upper bound or no bound at all'],
    ['undeclared', 'header-edit', join(decls(5), bounds(half, halfHi), ['(assert (>= X_9 Y_0))']), 'X_9 is not declared'],
    ['output-out-of-range', 'header-edit', join(decls(5, 6), bounds(half, halfHi), ['(assert (>= Y_5 Y_0))']), 'Y_5 of a network with 3 outputs'],
    ['too-many-inputs', 'header-edit', join(decls(6), bounds([...half, 0], [...halfHi, 1]), [OUT]), '6 inputs for a 5-input network'],
    ['bound-not-number', 'header-edit', text.replace('(>= X_2 -0.5)', '(>= X_2 abc)'), "a bound 'abc'"],
    ['bound-nan', 'non-finite', text.replace('(>= X_2 -0.5)', '(>= X_2 NaN)'), 'a NaN bound'],
    ['bound-overflow', 'non-finite', text.replace('(<= X_2 0.5)', '(<= X_2 1e999)'), '1e999: an infinite bound'],
    ['bound-inf', 'non-finite', text.replace('(>= X_2 -0.5)', '(>= X_2 -inf)'), '-inf: infinite bounds are not a box'],
    ['unknown-op', 'header-edit', text.replace('(assert (<= X_4 0.5))', '(assert (foo X_4 0.5))'), "an operator 'foo'"],
    ['unknown-command', 'header-edit', text + '(check-sat-bogus)\n', 'a top-level command that is not declare-const or assert'],
    ['declare-int', 'header-edit', text.replace('(declare-const X_1 Real)', '(declare-const X_1 Int)'), 'an Int variable'],
    ['empty', 'header-edit', '', 'no declarations at all'],
    ['unclosed-string', 'header-edit', text.replace('(assert (>= X_2 -0.5))', '(assert (>= X_2 -0.5)'), "an '(' never closed"],
    ['extra-close', 'header-edit', text + ')\n', "a ')' that closes nothing"],
  ];
  edits.forEach(([name, kind, t, why], i) => out.push(prop(name, kind, t, i, why)));
  out.push(prop('wide-lo-above-hi', 'header-edit', vnnlibText(0.5, -0.5), 0, 'every input has lo 0.5 > hi -0.5'));
  return out;
}

// ---------- instance lists ----------

function list(name: string, kind: string, text: string | Uint8Array, why: string, extra: Record<string, FileSpec> = {}): FuzzCase {
  const files: Record<string, FileSpec> = { 'net.onnx': sources().onnx32, 'net.json': sources().json, 'prop.vnnlib': sources().vnnlib, ...extra, 'list.csv': text };
  return badInput(`list-${name}`, kind, files, ['verify', '--instances', 'list.csv', '--timeout', '5'], why);
}

/** Cuts that end inside a row's text and short of its end: the row names a file that is not there, or too few fields. */
function listCutOffsets(text: string): number[] {
  return range(1, text.length).filter((at) => text[at - 1] !== '\n' && text[at] !== '\n');
}

export function instanceCases(rng: Rng, scale: number): FuzzCase[] {
  const text = sources().instances;
  const data = enc(text);
  const out: FuzzCase[] = [];
  for (const at of pickOffsets(listCutOffsets(text), 10 * scale, rng)) {
    out.push(list(`trunc-${at}`, 'truncation', truncate(data, at), 'the last row cut short: a missing file or a missing field'));
  }
  const letters = range(0, text.length).filter((i) => /[a-z,]/.test(text[i]));
  for (const at of pickOffsets(letters, 8 * scale, rng)) {
    const b = text[at] === ',' ? 0x3b : text[at] === 'q' ? 0x7a : 0x71;
    out.push(list(`flip-${at}`, 'byte-flip', replaceByte(data, at, b), 'a file name changed to one that does not exist, or the comma gone'));
  }
  const bad = 'net.onnx,prop.vnnlib\n';
  const edits: Array<[string, string, string, Record<string, FileSpec>?]> = [
    ['four-fields', bad + 'net.json,prop.vnnlib,5,9\n', 'a row of four fields'],
    ['timeout-word', bad + 'net.json,prop.vnnlib,abc\n', "a timeout 'abc'"],
    ['timeout-negative', bad + 'net.json,prop.vnnlib,-1\n', 'a negative timeout'],
    ['timeout-zero', bad + 'net.json,prop.vnnlib,0\n', 'a zero timeout'],
    ['timeout-nan', bad + 'net.json,prop.vnnlib,NaN\n', 'a NaN timeout'],
    ['missing-model', bad + 'gone.onnx,prop.vnnlib\n', 'a model that does not exist'],
    ['missing-property', bad + 'net.json,gone.vnnlib\n', 'a property that does not exist'],
    ['model-dir', bad + 'sub,prop.vnnlib\n', 'a directory as the model', { sub: { special: 'dir' } }],
    ['model-is-list', bad + 'list.csv,prop.vnnlib\n', 'the list itself named as a model'],
    ['empty', '', 'no instances'],
    ['comments-only', '# nothing\n\n', 'no instances'],
    ['bad-property-row2', bad + 'net.json,broken.vnnlib\n', 'the second row names a malformed property (read before any search)', { 'broken.vnnlib': sources().vnnlib.slice(0, 200) }],
    ['bad-model-row2', bad + 'broken.nnet,prop.vnnlib\n', 'the second row names a malformed model (read before any search)', { 'broken.nnet': sources().nnet.slice(0, 300) }],
    ['wrong-inputs', bad + 'net.json,six.vnnlib\n', 'a property of 6 inputs for a 5-input network', { 'six.vnnlib': [...decls(6), ...bounds([...half, 0], [...halfHi, 1]), OUT].join('\n') + '\n' }],
  ];
  edits.forEach(([name, t, why, extra]) => out.push(list(name, 'header-edit', t, why, extra)));
  return out;
}
