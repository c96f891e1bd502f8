/**
 * Output paths, as a user gets them wrong: every case fails in one line, exit 2, naming the path, before any work,
 * and leaves the directory exactly as it was. The set writer leaves nothing of a set that fails half way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nnetText } from '../src/formats/nnet.ts';
import { makeBox } from '../src/model/box.ts';
import { writeFilesAtomic } from '../src/formats/atomic.ts';
import { randomNetwork } from './helpers/nets.ts';

const BIN = fileURLToPath(new URL('../bin/nnshrink-dev.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nnshrink-outputs-'));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const model = join(dir, 'good.nnet');
writeFileSync(model, nnetText(randomNetwork(3, [3, 6, 4, 2]), { domain: makeBox([-1, -1, -1], [1, 1, 1]) }));
const prop = join(dir, 'p.vnnlib');
writeFileSync(prop, [...['X_0', 'X_1', 'X_2', 'Y_0', 'Y_1'].map((v) => `(declare-const ${v} Real)`), ...[0, 1, 2].map((i) => `(assert (>= X_${i} -1))\n(assert (<= X_${i} 1))`), '(assert (<= Y_0 -1000))'].join('\n') + '\n');
const notDir = join(dir, 'plain-file');
writeFileSync(notDir, 'a regular file');

/**
 * Every file and directory under `d`, files with their size and modification time: what "left as it was" means here
 * (a directory's own time changes when the write probe creates and removes its file there).
 */
function listing(d: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    for (const name of readdirSync(p).sort()) {
      const full = join(p, name);
      const st = statSync(full);
      out.push(`${rel}${name} ${st.isDirectory() ? 'dir' : `${st.size} ${st.mtimeMs}`}`);
      if (st.isDirectory()) walk(full, `${rel}${name}/`);
    }
  };
  walk(d, '');
  return out;
}

/** exit 2, one line naming `path` (and matching `pattern`), and the directory as it was before. */
function refused(args: string[], path: string, pattern: RegExp): void {
  const before = listing(dir);
  const r = run(...args);
  assert.equal(r.code, 2, `exit code (stderr: ${r.err})`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0], /^nnshrink: error: /);
  assert.ok(lines[0].includes(path), `names ${path}: ${lines[0]}`);
  assert.match(lines[0], pattern);
  assert.equal(r.out, '');
  assert.deepEqual(listing(dir), before, 'the directory is as it was');
}

test('an output that is an input, or the same file as another output, is refused before any work', () => {
  refused(['prune', model, '-o', model], model, /-o .*the same file as the input MODEL/);
  refused(['prune', 'good.nnet', '-o', './good.nnet'], 'good.nnet', /the same file as the input MODEL/);
  refused(['convert', model, model], model, /OUT .*the same file as the input IN/);
  const out = join(dir, 'pr.onnx');
  refused(['prune', model, '-o', out, '--certificate', out], out, /--certificate .*the same file as the output -o/);
  refused(['prune', model, '--vnnlib', prop, '-o', out, '--certificate', prop], prop, /--certificate .*the same file as the input --vnnlib/);
  const fam = join(dir, 'fam');
  refused(['slice', model, '-o', fam, '--onnx', fam], fam, /the same file as the output -o/);
  mkdirSync(fam);
  writeFileSync(join(fam, 'family.json'), '{}');
  refused(['slice', model, '-o', fam, '--onnx', join(fam, 'f.onnx')], 'f.onnx', /is inside it, and the directory is replaced whole/);
  writeFileSync(join(fam, 'm.nnet'), readFileSync(model));
  refused(['slice', join(fam, 'm.nnet'), '-o', fam], 'm.nnet', /the input MODEL .* is inside it/);
  refused(['verify', model, prop, '--results', prop], prop, /--results .*the same file as the input PROPERTY/);
  refused(['verify', model, prop, '--results', model], model, /--results .*the same file as the input MODEL/);
});

test('an output path through a regular file, in a missing directory, or onto a directory is refused before any work', () => {
  const through = join(notDir, 'out.onnx');
  refused(['prune', model, '-o', through], through, /cannot write \(.*plain-file is a file, not a directory\)/);
  refused(['convert', model, through], through, /plain-file is a file, not a directory/);
  refused(['slice', model, '-o', join(dir, 'fam2'), '--onnx', through], through, /not a directory/);
  refused(['prune', model, '-o', join(dir, 'p.onnx'), '--certificate', through], through, /not a directory/);
  const missing = join(dir, 'no-such-dir', 'r.txt');
  refused(['verify', model, prop, '--results', missing], missing, /cannot write \(no directory/);
  const sub = join(dir, 'a-directory.onnx');
  mkdirSync(sub, { recursive: true });
  refused(['prune', model, '-o', sub], sub, /is a directory/);
  refused(['slice', model, '-o', notDir], notDir, /exists and is not a directory/);
  refused(['slice', model, '-o', sub], sub, /exists and is not a slice family/);
});

test('a directory that cannot be written is refused before any work: a read-only one, or (as root, who ignores permissions) one under /proc', (t) => {
  const ro = join(dir, 'read-only');
  mkdirSync(ro, { recursive: true });
  chmodSync(ro, 0o555);
  let root = false;
  try {
    writeFileSync(join(ro, 'probe'), '');
    root = true;
  } catch {
    // not root: the permissions hold
  }
  // root writes anyway: /proc refuses new files to everyone
  const target = root ? '/proc' : ro;
  if (root) t.diagnostic('running as root: chmod 0o555 does not stop root, so the unwritable directory is /proc');
  try {
    const before = readdirSync(ro);
    refused(['prune', model, '-o', join(target, 'p.onnx')], join(target, 'p.onnx'), /is not writable/);
    // the certificate unwritable: refused before the model is computed, so no model is left either
    const out = join(dir, 'with-cert.onnx');
    refused(['prune', model, '-o', out, '--certificate', join(target, 'c.json')], join(target, 'c.json'), /is not writable/);
    assert.ok(!existsSync(out));
    // an --onnx path that cannot be written: refused before the family is sliced, so no family either
    refused(['slice', model, '-o', join(dir, 'fam3'), '--onnx', join(target, 'f.onnx')], join(target, 'f.onnx'), /is not writable/);
    assert.ok(!existsSync(join(dir, 'fam3')));
    refused(['verify', model, prop, '--results', join(target, 'r.txt')], join(target, 'r.txt'), /is not writable/);
    const list = join(dir, 'list.csv');
    writeFileSync(list, 'good.nnet,p.vnnlib\n');
    refused(['verify', '--instances', list, '--results-dir', target], target, /is not writable/);
    assert.deepEqual(readdirSync(ro), before);
  } finally {
    chmodSync(ro, 0o755);
  }
});

test('verify --instances: result files that collide with each other or with an input are refused before any search', () => {
  const rd = join(dir, 'results');
  mkdirSync(rd, { recursive: true });
  const twice = join(dir, 'twice.csv');
  writeFileSync(twice, 'good.nnet,p.vnnlib\ngood.nnet,p.vnnlib\n');
  refused(['verify', '--instances', twice, '--results-dir', rd], 'twice.csv:2', /result file good_p\.txt .* also line 1's/);
  // the list itself is where the one result file would go
  const list = join(rd, 'good_p.txt');
  writeFileSync(list, `${model},${prop}\n`);
  refused(['verify', '--instances', list, '--results-dir', rd], list, /the same file as the input --instances/);
});

test('writeFilesAtomic: a set that fails half way leaves nothing new and puts back what was there', () => {
  const d = mkdtempSync(join(tmpdir(), 'nnshrink-set-'));
  const a = join(d, 'a.txt');
  const fam = join(d, 'fam');
  // a new file, a new directory, then an output that cannot be written: none of the three is left
  assert.throws(
    () => writeFilesAtomic([{ path: a, data: 'new a' }, { path: fam, files: [{ name: 'x.json', data: '{}' }] }, { path: join(d, 'missing', 'b.txt'), data: 'b' }]),
    /missing\/b\.txt: cannot write \(ENOENT\)/,
  );
  assert.deepEqual(readdirSync(d), []);
  // old versions of a file and of a directory survive a failed set untouched
  writeFileSync(a, 'old a');
  mkdirSync(fam);
  writeFileSync(join(fam, 'old.json'), 'old');
  assert.throws(() => writeFilesAtomic([{ path: a, data: 'new a' }, { path: fam, files: [{ name: 'x.json', data: '{}' }] }, { path: join(d, 'missing', 'b.txt'), data: 'b' }]));
  assert.deepEqual(readdirSync(d).sort(), ['a.txt', 'fam']);
  assert.equal(readFileSync(a, 'utf8'), 'old a');
  assert.deepEqual(readdirSync(fam), ['old.json']);
  // a set that succeeds replaces both, and leaves no temporary or old copy
  writeFilesAtomic([{ path: a, data: 'new a' }, { path: fam, files: [{ name: 'x.json', data: '{}' }] }]);
  assert.deepEqual(readdirSync(d).sort(), ['a.txt', 'fam']);
  assert.equal(readFileSync(a, 'utf8'), 'new a');
  assert.deepEqual(readdirSync(fam), ['x.json']);
  // a directory where a file goes is not replaced
  assert.throws(() => writeFilesAtomic([{ path: fam, data: 'a file' }]), /fam: is a directory; not overwriting it/);
  assert.deepEqual(readdirSync(fam), ['x.json']);
});

test('prune and slice write their outputs as one set: model and certificate, family and ONNX file, nothing else left', () => {
  const out = join(dir, 'set.onnx');
  const cert = join(dir, 'set-cert.json');
  const before = new Set(readdirSync(dir));
  const r = run('prune', model, '-o', out, '--certificate', cert, '--timeout', '2');
  assert.equal(r.code, 0, r.err);
  const fam = join(dir, 'set-family');
  const onnx = join(dir, 'set-family.onnx');
  const s = run('slice', model, '--max-slices', '2', '--timeout', '0.3', '--jobs', '1', '-o', fam, '--onnx', onnx);
  assert.equal(s.code, 0, s.err);
  assert.deepEqual(readdirSync(dir).filter((f) => !before.has(f)).sort(), ['set-cert.json', 'set-family', 'set-family.onnx', 'set.onnx']);
  // slicing again replaces the family whole (no stale slice left, no temporary)
  const again = run('slice', model, '--max-slices', '1', '--timeout', '0.3', '--jobs', '1', '-o', fam, '--onnx', onnx);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(readdirSync(fam).sort(), ['family.json', 'slice-00000.certificate.json', 'slice-00000.json']);
  assert.deepEqual(readdirSync(dir).filter((f) => !before.has(f)).sort(), ['set-cert.json', 'set-family', 'set-family.onnx', 'set.onnx']);
});
