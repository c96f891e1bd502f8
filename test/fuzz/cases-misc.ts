/**
 * Inputs that are not files of the right kind (20 MB of NUL bytes, FIFOs, directories), bad options and bad output
 * paths. Commands that compute for seconds (prune, slice, verify) are among them on purpose: a bad option or output
 * path must be refused before the computation starts, so these too must end at once.
 */
import { sources, UNIT_DOMAIN } from './sources.ts';
import { badInput, type FuzzCase, type FileSpec } from './types.ts';

const MB20 = 20 * 1024 * 1024;
const NUL: FileSpec = { special: 'fill', size: MB20, byte: 0 };
const FIFO: FileSpec = { special: 'fifo' };
const DIR: FileSpec = { special: 'dir' };

/** Each place a file is read, with the file at `f` and whatever else it needs. */
function readers(f: Record<string, FileSpec>, what: FileSpec): Array<[string, Record<string, FileSpec>, string[]]> {
  return [
    ['nnet', { 'net.nnet': what }, ['info', 'net.nnet']],
    ['onnx', { 'net.onnx': what }, ['eval', 'net.onnx', '--input', '0,0,0,0,0']],
    ['json', { 'net.json': what }, ['convert', 'net.json', 'out.onnx']],
    ['vnnlib', { 'prop.vnnlib': what }, ['bounds', '--default', '--vnnlib', 'prop.vnnlib']],
    ['verify-vnnlib', { 'net.json': sources().json, 'prop.vnnlib': what }, ['verify', 'net.json', 'prop.vnnlib', '--timeout', '5']],
    ['certificate', { 'cert.json': what }, ['check', 'cert.json']],
    ['list', { 'list.csv': what }, ['verify', '--instances', 'list.csv']],
    ['input-file', { 'x.txt': what }, ['eval', '--default', '--input-file', 'x.txt']],
    ['equiv-b', { 'a.json': sources().json, 'b.json': what }, ['equiv', 'a.json', 'b.json', '--epsilon', '0.1', '--domain', UNIT_DOMAIN]],
  ].map(([n, files, argv]) => [n as string, { ...f, ...(files as Record<string, FileSpec>) }, argv as string[]]);
}

export function specialFileCases(): FuzzCase[] {
  const out: FuzzCase[] = [];
  for (const [n, files, argv] of readers({}, NUL)) out.push(badInput(`nul-20mb-${n}`, 'nul-file', files, argv, '20 MB of NUL bytes: the error quotes a short prefix at most'));
  out.push(badInput('x-20mb-nnet', 'nul-file', { 'net.nnet': { special: 'fill', size: MB20, byte: 0x78 } }, ['info', 'net.nnet'], "20 MB of 'x' on one line: one token, quoted short"));
  out.push(badInput('digits-20mb-nnet', 'nul-file', { 'net.nnet': { special: 'fill', size: MB20, byte: 0x31 } }, ['info', 'net.nnet'], "20 MB of '1': a number that overflows, quoted short"));
  out.push(badInput('nul-20mb-family', 'nul-file', { 'fam/family.json': NUL }, ['check', 'fam'], 'a family manifest of NUL bytes'));
  for (const [n, files, argv] of readers({}, FIFO)) out.push(badInput(`fifo-${n}`, 'fifo', files, argv, 'a FIFO is not a regular file: refused, not read (it would block)'));
  out.push(badInput('fifo-family', 'fifo', { 'fam/family.json': FIFO }, ['check', 'fam'], 'a FIFO as the family manifest'));
  for (const [n, files, argv] of readers({}, DIR)) out.push(badInput(`dir-${n}`, 'directory', files, argv, 'a directory where a file is expected'));
  out.push(badInput('missing-model', 'directory', {}, ['info', 'gone.nnet'], 'a file that does not exist'));
  out.push(badInput('unknown-extension', 'directory', { 'net.txt': sources().json }, ['info', 'net.txt'], 'an extension nnshrink does not read'));
  return out;
}

export function optionCases(): FuzzCase[] {
  const net = { 'net.json': sources().json };
  const netProp = { ...net, 'prop.vnnlib': sources().vnnlib };
  const D = ['--domain', UNIT_DOMAIN];
  const rows: Array<[string, Record<string, FileSpec>, string[], string]> = [
    ['levels-fraction', {}, ['slice', '--default', '--levels', '1.5', '-o', 'fam'], '--levels 1.5 is not a whole number'],
    ['levels-zero', {}, ['slice', '--default', '--levels', '0', '-o', 'fam'], '--levels 0'],
    ['levels-word', {}, ['slice', '--default', '--levels', 'two', '-o', 'fam'], "--levels 'two'"],
    ['max-slices-fraction', {}, ['slice', '--default', '--max-slices', '2.5', '-o', 'fam'], '--max-slices 2.5'],
    ['max-slices-zero', {}, ['slice', '--default', '--max-slices', '0', '-o', 'fam'], '--max-slices 0'],
    ['levels-and-max-slices', {}, ['slice', '--default', '--levels', '2', '--max-slices', '4', '-o', 'fam'], 'both --levels and --max-slices'],
    ['strategy-bogus', {}, ['slice', '--default', '--strategy', 'bogus', '-o', 'fam'], 'an unknown strategy'],
    ['jobs-fraction-verify', netProp, ['verify', 'net.json', 'prop.vnnlib', '--jobs', '1.5'], '--jobs 1.5'],
    ['jobs-fraction-prune', {}, ['prune', '--default', ...D, '--jobs', '1.5', '-o', 'p.json'], '--jobs 1.5, refused before the census'],
    ['jobs-fraction-bounds', {}, ['bounds', '--default', ...D, '--max', '3:0', '--jobs', '1.5'], '--jobs 1.5'],
    ['jobs-zero', netProp, ['verify', 'net.json', 'prop.vnnlib', '--jobs', '0'], '--jobs 0'],
    ['jobs-negative', {}, ['slice', '--default', '--max-slices', '2', '--jobs', '-2', '-o', 'fam'], '--jobs -2'],
    ['view-bogus', { 'net.nnet': sources().nnet }, ['info', 'net.nnet', '--view', 'bogus'], "--view 'bogus'"],
    ['view-bogus-equiv', { 'a.nnet': sources().nnet, 'b.nnet': sources().nnet }, ['equiv', 'a.nnet', 'b.nnet', '--epsilon', '0.1', '--view', 'bogus'], "--view 'bogus'"],
    ['repeat-domain', {}, ['prune', '--default', ...D, '--domain', '0,0,0,0,0:1,1,1,1,1', '-o', 'p.json'], 'two --domain options: which one?'],
    ['repeat-output', {}, ['prune', '--default', ...D, '-o', 'p.json', '-o', 'q.json'], 'two -o options'],
    ['repeat-input', {}, ['eval', '--default', '--input', '0,0,0,0,0', '--input', '1,1,1,1,1'], 'two --input options'],
    ['repeat-method', {}, ['bounds', '--default', ...D, '--method', 'interval', '--method', 'crown'], 'two --method options'],
    ['repeat-epsilon', {}, ['prune', '--default', ...D, '--epsilon', '0.1', '--epsilon', '0.2', '-o', 'p.json'], 'two --epsilon options'],
    ['extra-positional-info', net, ['info', 'net.json', 'net.json'], 'a second model for info'],
    ['extra-positional-convert', net, ['convert', 'net.json', 'a.onnx', 'b.onnx'], 'a third path for convert'],
    ['extra-positional-prune', {}, ['prune', '--default', 'extra', ...D, '-o', 'p.json'], 'a positional beside --default'],
    ['extra-positional-check', {}, ['check', 'a.json', 'b.json'], 'two certificates'],
    ['extra-positional-verify', netProp, ['verify', 'net.json', 'prop.vnnlib', 'more.vnnlib'], 'a third positional for verify'],
    ['domain-neg-inf', {}, ['bounds', '--default', '--domain', '-inf,-1,-1,-1,-1:1,1,1,1,1'], 'an infinite bound is not a box'],
    ['domain-neg-infinity', {}, ['prune', '--default', '--domain', '-Infinity,-1,-1,-1,-1:1,1,1,1,1', '-o', 'p.json'], 'an infinite bound is not a box'],
    ['domain-inf-hi', {}, ['bounds', '--default', '--domain', '0,0,0,0,0:inf,1,1,1,1'], 'an infinite bound is not a box'],
    ['domain-nan', {}, ['bounds', '--default', '--domain', 'NaN,0,0,0,0:1,1,1,1,1'], 'a NaN bound'],
    ['domain-lo-above-hi', {}, ['prune', '--default', '--domain', '1,0,0,0,0:0,1,1,1,1', '-o', 'p.json'], 'lo 1 > hi 0 for input 0'],
    ['domain-short', {}, ['bounds', '--default', '--domain', '0,0,0,0:1,1,1,1'], '4 values for 5 inputs'],
    ['domain-no-colon', {}, ['bounds', '--default', '--domain', '0,0,0,0,0'], 'no hi part'],
    ['domain-empty', {}, ['bounds', '--default', '--domain', ''], 'an empty domain'],
    ['domain-words', {}, ['bounds', '--default', '--domain', 'a,b,c,d,e:f,g,h,i,j'], 'words, not numbers'],
    ['domain-and-vnnlib', netProp, ['prune', 'net.json', ...D, '--vnnlib', 'prop.vnnlib', '-o', 'p.json'], 'both --domain and --vnnlib'],
    ['timeout-negative', netProp, ['verify', 'net.json', 'prop.vnnlib', '--timeout', '-3'], 'a negative time limit'],
    ['timeout-word', netProp, ['verify', 'net.json', 'prop.vnnlib', '--timeout', 'soon'], "--timeout 'soon'"],
    ['epsilon-negative', {}, ['prune', '--default', ...D, '--epsilon', '-1', '-o', 'p.json'], 'a negative epsilon'],
    ['epsilon-nan', {}, ['prune', '--default', ...D, '--epsilon', 'NaN', '-o', 'p.json'], 'a NaN epsilon'],
    ['epsilon-and-class', {}, ['prune', '--default', ...D, '--epsilon', '0.1', '--preserve-class', 'argmax', '-o', 'p.json'], 'two tolerances at once'],
    ['preserve-class-bogus', {}, ['prune', '--default', ...D, '--preserve-class', 'bogus', '-o', 'p.json'], "an order 'bogus'"],
    ['margin-negative', {}, ['prune', '--default', ...D, '--preserve-class', 'argmax', '--margin', '-1', '-o', 'p.json'], 'a negative margin'],
    ['precision-float16', {}, ['prune', '--default', ...D, '--precision', 'float16', '-o', 'p.onnx'], 'a precision nnshrink does not write'],
    ['method-bogus', {}, ['bounds', '--default', ...D, '--method', 'bogus'], 'an unknown bounds method'],
    ['equiv-method-bogus', { 'a.json': sources().json, 'b.json': sources().json }, ['equiv', 'a.json', 'b.json', '--epsilon', '0.1', '--method', 'bogus', ...D], 'an unknown equivalence method'],
    ['max-layer-range', {}, ['bounds', '--default', ...D, '--max', '9:0'], 'layer 9 of a 4-layer network'],
    ['phase-index-range', {}, ['bounds', '--default', ...D, '--phase', '1:99'], 'neuron 99 of a 24-neuron layer'],
    ['max-word', {}, ['bounds', '--default', ...D, '--max', '1:abc'], "neuron 'abc'"],
    ['input-short', {}, ['eval', '--default', '--input', '0,0,0,0'], '4 inputs for 5'],
    ['input-words', {}, ['eval', '--default', '--input', 'a,b,c,d,e'], 'words, not numbers'],
    ['input-nan', {}, ['eval', '--default', '--input', 'NaN,0,0,0,0'], 'a NaN input'],
    ['equiv-sizes', { 'a.json': sources().json, 'b.nnet': 'x' }, ['equiv', 'a.json', 'b.nnet', '--epsilon', '0.1'], 'a malformed second network'],
    ['unknown-option', {}, ['info', '--default', '--bogus'], 'an unknown option'],
    ['unknown-command', {}, ['shrink', '--default'], 'an unknown command'],
    ['default-and-model', net, ['info', '--default', 'net.json'], 'both a model and --default'],
    ['no-model', {}, ['info'], 'no model given'],
    ['no-output', {}, ['prune', '--default', ...D], 'prune without -o'],
  ];
  return rows.map(([name, files, argv, why]) => badInput(`opt-${name}`, 'bad-option', files, argv, why));
}

export function outputPathCases(): FuzzCase[] {
  const net = { 'net.json': sources().json };
  const blocker = { blocker: 'a regular file, not a directory\n' };
  const D = ['--domain', UNIT_DOMAIN];
  const rows: Array<[string, Record<string, FileSpec>, string[], string]> = [
    ['convert-through-file', { ...net, ...blocker }, ['convert', 'net.json', 'blocker/out.onnx'], 'the output path runs through a regular file (ENOTDIR)'],
    ['convert-onto-input', net, ['convert', 'net.json', 'net.json'], 'the output would replace the input'],
    ['convert-onto-input-other-name', net, ['convert', 'net.json', './net.json'], 'the same file under another spelling'],
    ['convert-to-dir', { ...net, out: { special: 'dir' } }, ['convert', 'net.json', 'out'], 'the output is an existing directory'],
    ['convert-bad-extension', net, ['convert', 'net.json', 'out.txt'], 'an output format nnshrink does not write'],
    ['prune-through-file', blocker, ['prune', '--default', ...D, '-o', 'blocker/p.json'], 'ENOTDIR, refused before the census'],
    ['prune-onto-input', net, ['prune', 'net.json', ...D, '-o', 'net.json'], 'the pruned network would replace its original'],
    ['prune-certificate-is-output', {}, ['prune', '--default', ...D, '-o', 'p.json', '--certificate', 'p.json'], 'the certificate would overwrite the model'],
    ['prune-certificate-through-file', blocker, ['prune', '--default', ...D, '-o', 'p.json', '--certificate', 'blocker/c.json'], 'the certificate cannot be written: no model left behind'],
    ['prune-certificate-onto-input', net, ['prune', 'net.json', ...D, '-o', 'p.json', '--certificate', 'net.json'], 'the certificate would replace the original'],
    ['prune-output-dir', { p: { special: 'dir' } }, ['prune', '--default', ...D, '-o', 'p'], 'the output is an existing directory'],
    ['slice-through-file', blocker, ['slice', '--default', '--max-slices', '2', '-o', 'blocker/fam'], 'the family directory cannot be made'],
    ['slice-onnx-through-file', blocker, ['slice', '--default', '--max-slices', '2', '-o', 'fam', '--onnx', 'blocker/f.onnx'], 'the ONNX file cannot be written: no family left behind'],
    ['slice-onto-file', net, ['slice', 'net.json', '--max-slices', '2', '-o', 'net.json'], 'the family directory would replace a file'],
    ['verify-results-through-file', { ...net, 'prop.vnnlib': sources().vnnlib, ...blocker }, ['verify', 'net.json', 'prop.vnnlib', '--results', 'blocker/r.txt'], 'the result file cannot be written'],
    ['verify-results-onto-input', { ...net, 'prop.vnnlib': sources().vnnlib }, ['verify', 'net.json', 'prop.vnnlib', '--results', 'prop.vnnlib'], 'the result file would replace the property'],
    ['verify-results-dir-is-file', { ...net, 'prop.vnnlib': sources().vnnlib, 'list.csv': 'net.json,prop.vnnlib\n', ...blocker }, ['verify', '--instances', 'list.csv', '--results-dir', 'blocker'], 'the results directory is a regular file'],
  ];
  return rows.map(([name, files, argv, why]) => badInput(`out-${name}`, 'output-path', files, argv, why));
}
