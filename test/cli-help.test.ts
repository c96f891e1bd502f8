/**
 * The CLI's help and error guidance (issue 28): --version, -h, `help COMMAND`, "did you mean" for misspelt commands
 * and options, and --default on verify and equiv, checked against the library's own evaluation of the default network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliIn } from './helpers/run-cli.ts';
import { naiveIntervalBounds } from './helpers/nets.ts';
import { closest, editDistance } from '../src/cli/suggest.ts';
import { defaultModel } from '../src/demo/default-network.ts';
import { modelBytes } from '../src/formats/load.ts';
import { cloneNetwork, evaluate } from '../src/model/network.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-help-'));
const cli = cliIn(dir);
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

function oneErrorLine(r: { code: number; err: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.err);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0], /^nnshrink: error: /);
  assert.match(lines[0], pattern);
}

test('edit distance counts insertions, deletions, substitutions and adjacent swaps as one step each', () => {
  assert.equal(editDistance('prune', 'prune'), 0);
  assert.equal(editDistance('prnue', 'prune'), 1);
  assert.equal(editDistance('prun', 'prune'), 1);
  assert.equal(editDistance('prunee', 'prune'), 1);
  assert.equal(editDistance('pxune', 'prune'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(closest('timout', ['time', 'timeout', 'jobs']), 'timeout');
  assert.equal(closest('dom', ['domain', 'default']), 'domain');
  assert.equal(closest('de', ['domain', 'default']), undefined, 'two letters extend neither uniquely enough');
  assert.equal(closest('zzzz', ['info', 'eval']), undefined);
});

test('--version prints the package version; -h, help and help COMMAND print help with exit 0', async () => {
  const [v, V, h, helpAll, helpPrune, pruneHelp, none] = await Promise.all([
    cli('--version'),
    cli('-V'),
    cli('-h'),
    cli('help'),
    cli('help', 'prune'),
    cli('prune', '--help'),
    cli(),
  ]);
  assert.equal(v.code, 0);
  assert.equal(v.out.trim(), pkg.version);
  assert.equal(V.out, v.out);
  assert.equal(h.code, 0);
  assert.match(h.out, /^usage: nnshrink COMMAND/m);
  assert.match(h.out, /help COMMAND/);
  assert.equal(helpAll.out, h.out);
  assert.equal(helpPrune.code, 0);
  assert.match(helpPrune.out, /^usage: nnshrink prune /);
  assert.equal(helpPrune.out, pruneHelp.out, 'help prune is prune --help');
  assert.equal(none.code, 2, 'no command at all is a usage error (the help is printed)');
  assert.equal(none.out, h.out);
});

test('a misspelt command or option gets one line naming the nearest; a far one gets none', async () => {
  const [cmd, helpCmd, opt, top, far, farOpt, extra] = await Promise.all([
    cli('prnue', '--default'),
    cli('help', 'verfy'),
    cli('info', '--defualt'),
    cli('--verison'),
    cli('zzzz'),
    cli('info', '--default', '--qqqqqqq'),
    cli('help', 'info', 'eval'),
  ]);
  oneErrorLine(cmd, /unknown command 'prnue'; did you mean 'prune'\?/);
  oneErrorLine(helpCmd, /unknown command 'verfy'; did you mean 'verify'\?/);
  oneErrorLine(opt, /^nnshrink: error: info: unknown option '--defualt'; did you mean '--default'\? \(see 'nnshrink info --help'\)$/);
  oneErrorLine(top, /unknown option '--verison'; did you mean '--version'\?/);
  oneErrorLine(far, /unknown command 'zzzz' \(commands: info, /);
  assert.doesNotMatch(far.err, /did you mean/);
  oneErrorLine(farOpt, /info: unknown option '--qqqqqqq' \(see/);
  assert.doesNotMatch(farOpt.err, /did you mean/);
  oneErrorLine(extra, /help: one command at a time/);
});

/** A VNN-LIB property over the default network's 5 inputs in [-r, r]: "Y_0 >= t" (sat means some x reaches t). */
function property(r: number, t: number): string {
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) lines.push(`(declare-const X_${i} Real)`);
  for (let j = 0; j < 3; j++) lines.push(`(declare-const Y_${j} Real)`);
  for (let i = 0; i < 5; i++) lines.push(`(assert (>= X_${i} ${-r}))`, `(assert (<= X_${i} ${r}))`);
  lines.push(`(assert (>= Y_0 ${t}))`);
  return lines.join('\n') + '\n';
}

test('verify --default decides a property of the default network: sat with a real counterexample, unsat beyond a sound bound', async () => {
  const net = defaultModel().network;
  const atCentre = evaluate(net, new Float64Array(5))[0];
  // an upper bound of output 0 by plain interval arithmetic (independent of nnshrink's bounds), plus a margin
  const beyond = naiveIntervalBounds(net, { lo: new Float64Array(5).fill(-0.1), hi: new Float64Array(5).fill(0.1) }).at(-1)!.hi[0] + 1;
  writeFileSync(join(dir, 'reach.vnnlib'), property(0.1, atCentre - 1e-6));
  writeFileSync(join(dir, 'beyond.vnnlib'), property(0.1, beyond));
  const [sat, unsat, missing, both] = await Promise.all([
    cli('verify', '--default', 'reach.vnnlib', '--json', '--jobs', '1'),
    cli('verify', '--default', 'beyond.vnnlib', '--jobs', '1'),
    cli('verify', '--default'),
    cli('verify', '--default', 'x.onnx', 'reach.vnnlib'),
  ]);
  assert.equal(sat.code, 1, sat.err);
  const r = JSON.parse(sat.out) as { result: string; counterexample: { x: number[] } };
  assert.equal(r.result, 'sat');
  const x = r.counterexample.x;
  assert.ok(x.every((v) => v >= -0.1 && v <= 0.1), `counterexample inside the box: ${x}`);
  assert.ok(evaluate(net, Float64Array.from(x))[0] >= atCentre - 1e-6, 'the counterexample reaches the threshold');
  assert.equal(unsat.code, 0, unsat.err);
  assert.equal(unsat.out.trim(), 'unsat');
  oneErrorLine(missing, /verify: need PROPERTY\.vnnlib after --default/);
  oneErrorLine(both, /unexpected argument 'reach\.vnnlib'/);
});

test('equiv --default B compares the default network with B: the same network proved, a shifted one refuted at a real witness', async () => {
  const net = defaultModel().network;
  const shifted = cloneNetwork(net);
  (shifted.layers[shifted.layers.length - 1].bias as Float64Array)[1] += 0.5;
  writeFileSync(join(dir, 'same.json'), modelBytes(net, 'json'));
  writeFileSync(join(dir, 'shifted.json'), modelBytes(shifted, 'json'));
  const [same, diff, none] = await Promise.all([
    cli('equiv', '--default', 'same.json', '--epsilon', '1e-9', '--json', '--jobs', '1'),
    cli('equiv', '--default', 'shifted.json', '--epsilon', '0.1', '--json', '--jobs', '1'),
    cli('equiv', '--default', '--epsilon', '0.1'),
  ]);
  assert.equal(same.code, 0, same.err);
  assert.equal((JSON.parse(same.out) as { result: string }).result, 'proved');
  assert.equal(diff.code, 1, diff.err);
  const d = JSON.parse(diff.out) as { result: string; witness: number[] };
  assert.equal(d.result, 'refuted');
  const w = Float64Array.from(d.witness);
  const gap = Math.max(...Array.from(evaluate(net, w), (v, i) => Math.abs(v - evaluate(shifted, w)[i])));
  assert.ok(gap > 0.1, `the witness separates them by more than epsilon: ${gap}`);
  oneErrorLine(none, /equiv: need model B to compare with --default/);
});
