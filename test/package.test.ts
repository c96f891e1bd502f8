/**
 * nnshrink as a user installs it (issue 28): the project's files are copied to a temporary folder and built there
 * (the checkout's own dist/ is left alone: other work may be using it), `npm pack`ed, and the tarball installed into
 * a fresh folder with production dependencies only. The installed CLI must run without tsx or TypeScript (worker
 * threads included), the JavaScript example must run against `import 'nnshrink'` (a prune under an AbortSignal's
 * time limit, and one stopped from its progress callback), and the TypeScript example must type-check with the
 * project's tsc against the installed package's types (resolved through `exports`) and run (prune, then
 * checkCertificate, through the API).
 * Needs npm and the registry (or its cache) for the runtime dependencies; not ../shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultNetwork } from '../src/demo/default-network.ts';
import { sizeMetrics } from '../src/model/network.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; files: string[] };
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** `cmd args` in `cwd`, killed after `limitMs` (a hung install or build fails the test, it does not hang it). */
function run(cmd: string, args: string[], cwd: string, limitMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, NNSHRINK_DEBUG: '1', npm_config_update_notifier: 'false' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), limitMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const ok = (r: Ran, what: string): Ran => {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.err.slice(-2000)}\n${r.out.slice(-1000)}`);
  return r;
};

test('the packed tarball installs with production dependencies only; its CLI, the JS example and the TS example work', { timeout: 900_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'nnshrink-pkg-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // a copy of what the build and `files` read; node_modules linked for the compiler and the types
  const copy = join(work, 'project');
  mkdirSync(copy);
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'bin', 'docs', 'README.md', 'LICENSE']) {
    if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(copy, f), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  ok(await run(process.execPath, [TSC, '-p', 'tsconfig.build.json'], copy, 300_000), 'the build');

  const packed = ok(await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], copy, 60_000), 'npm pack');
  const info = (JSON.parse(packed.out) as Array<{ filename: string; files: Array<{ path: string }> }>)[0];
  const paths = info.files.map((f) => f.path);
  for (const needed of ['package.json', 'bin/nnshrink.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/pool/worker.js', 'LICENSE']) {
    assert.ok(paths.includes(needed), `the tarball holds ${needed}`);
  }
  const stray = paths.filter((p) => /^(src|test|bench|examples|\.ci)\//.test(p) || p === 'bin/nnshrink-dev.js' || p.startsWith('tsconfig'));
  assert.deepEqual(stray, [], 'no sources, tests, benchmarks or dev launcher in the tarball');

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'nnshrink-user', private: true, type: 'module' }));
  ok(await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', join(work, info.filename)], app, 120_000), 'npm install of the tarball');
  for (const dev of ['tsx', 'typescript', 'fast-check', 'onnxruntime-node']) assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is not installed`);

  const bin = join(app, 'node_modules', '.bin', 'nnshrink');
  assert.equal(ok(await run(bin, ['--version'], app, 30_000), '--version').out.trim(), PKG.version);
  const infoJson = JSON.parse(ok(await run(bin, ['info', '--default', '--json'], app, 30_000), 'info --default').out) as { inputs: number; parameters: number; layerSizes: number[] };
  const expected = sizeMetrics(defaultNetwork());
  assert.equal(infoJson.inputs, 5);
  assert.equal(infoJson.parameters, expected.parameters, 'the compiled CLI loads the same default network as the sources');
  assert.deepEqual(infoJson.layerSizes, expected.layerSizes);
  // worker threads start the compiled worker loop and load compiled job modules (there is no tsx to fall back on)
  const fam = ok(await run(bin, ['slice', '--default', '--max-slices', '2', '--jobs', '2', '-o', join(app, 'fam'), '--json'], app, 60_000), 'slice on 2 workers');
  assert.equal((JSON.parse(fam.out) as { slices: number }).slices, 2);

  cpSync(join(ROOT, 'examples'), app, { recursive: true });
  const js = ok(await run(process.execPath, ['verify.mjs'], app, 150_000), 'examples/verify.mjs');
  assert.match(js.out, /^verify: unsat/m);
  assert.match(js.out, /^equiv within 0\.5: proved; within 0\.1: refuted$/m);
  assert.match(js.out, /^NnsError: --domain: 'x' is not a number$/m);
  // prune within a time limit (an AbortSignal): done and proved; stopped from its progress callback: an AbortError
  assert.match(js.out, /^prune: ReLUs 60 -> \d+, final check proved$/m);
  assert.match(js.out, /^stopped: AbortError, code aborted$/m);

  // the user's TypeScript, strict, declaration files checked too (skipLibCheck off): the package's own types
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'], typeRoots: [join(app, 'node_modules', '@types'), join(ROOT, 'node_modules', '@types')] },
    files: ['shrink-check.ts'],
  };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  ok(await run(process.execPath, [TSC, '-p', 'tsconfig.json'], app, 240_000), 'tsc on examples/shrink-check.ts');
  const ts = ok(await run(process.execPath, [join('out', 'shrink-check.js')], app, 120_000), 'the compiled TS example');
  assert.match(ts.out, /^never active: 0:2$/m, 'the census finds the one ReLU whose bias keeps it off');
  assert.match(ts.out, /^saved and reloaded: proved/m);
  assert.match(ts.out, /^pruned: ReLUs 3 -> 2, /m, 'prune through the API removes the ReLU that is never active');
  assert.match(ts.out, /^check: proved \(chain\)$/m, 'checkCertificate re-proves the certificate from the files');
  assert.match(ts.out, /^NnsError bad-input: /m);
});
