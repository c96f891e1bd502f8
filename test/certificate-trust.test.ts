/**
 * `check` as an independent judge: it proves the claim about the networks AS STORED (every weight, bias and
 * activation), any sample that contradicts the claim refutes it, and a certificate or family that is malformed or
 * inconsistent is refused at once (exit 2, the field named). Exit codes: 0 proved, 1 refuted, 2 bad input, 3 not
 * proved.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBox } from '../src/model/box.ts';
import { cloneNetwork, type Network } from '../src/model/network.ts';
import { networkHash } from '../src/model/hash.ts';
import { plantedNetwork } from '../src/demo/planted.ts';
import { pruneAndCheck } from '../src/simplify/certify.ts';
import { exactSlack, finalCheck } from '../src/simplify/final-check.ts';
import { defaultModel } from '../src/demo/default-network.ts';
import { pairingMismatch } from '../src/simplify/refactor-check.ts';
import { compact } from '../src/simplify/compact.ts';
import { applyEdits } from '../src/simplify/edits.ts';
import { symbolicBounds } from '../src/bounds/symbolic.ts';
import { parseJsonNetwork } from '../src/formats/json.ts';
import { CERTIFICATE_SCHEMA } from '../src/simplify/certificate-schema.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'nnshrink-dev.js');
const cube = [makeBox([-1, -1, -1], [1, 1, 1])];

function cli(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** The planted network pruned exactly: folded linear layer, basis reduction, merges (every link of the chain). */
async function plantedPrune() {
  const p = plantedNetwork(11);
  const r = await pruneAndCheck(p.net, {
    domain: cube,
    tolerance: { kind: 'exact' },
    boundsFn: symbolicBounds,
    queryTimeoutMs: 5000,
    roundTrip: (n) => n,
    precision: 'float64',
    finalTimeoutMs: 20000,
    finalSamples: 2000,
  });
  return { f: p.net, r };
}

/** A copy of `net` with one hidden neuron's activation switched (ReLU <-> identity). */
function flipped(net: Network, layer: number, neuron: number): Network {
  const g = cloneNetwork(net);
  const relu = g.layers[layer].relu as Uint8Array;
  relu[neuron] = relu[neuron] ? 0 : 1;
  return g;
}

/** Sampling that sees nothing: the proof alone must then find that the stored network is not what was claimed. */
const blind = { points: 0, maxAbsDiff: 0 };

test('the final check reads every activation of the stored network: a switched ReLU is never proved, even unseen by sampling', async () => {
  const { f, r } = await plantedPrune();
  assert.ok(r.result.groups.some((g) => g.length > 1), 'the prune folds a layer (the refactor-bound link is exercised)');
  const run = (written: Network) =>
    finalCheck(f, { edits: r.result.edits, steps: r.result.steps, written, groups: r.result.groups, basisReduced: r.result.basisReduced }, cube, { kind: 'exact' }, r.exactEps, {
      boundsFn: symbolicBounds,
      timeoutMs: 20000,
      seed: 3,
      sampling: blind,
    });
  assert.equal(run(r.written).verdict.status, 'proved');
  let cases = 0;
  r.written.layers.forEach((L, k) => {
    if (k === r.written.layers.length - 1) return;
    for (let i = 0; i < L.outSize; i++) {
      const v = run(flipped(r.written, k, i));
      assert.notEqual(v.verdict.status, 'proved', `layer ${k} neuron ${i} switched, yet proved`);
      cases++;
    }
  });
  assert.ok(cases >= 10);
});

test('pairingMismatch names the stored neuron whose activation differs, and a group that folds across ReLUs', () => {
  const p = plantedNetwork(5);
  const { net } = compact(applyEdits(p.net, { state: p.net.layers.map((L) => new Uint8Array(L.outSize)), mergeInto: p.net.layers.map((L) => new Int32Array(L.outSize).fill(-1)), mergeFactor: p.net.layers.map((L) => new Float64Array(L.outSize)), affS: p.net.layers.map((L) => new Float64Array(L.outSize)), affC: p.net.layers.map((L) => new Float64Array(L.outSize)) }).g);
  const singles = net.layers.map((_, k) => [k]);
  assert.equal(pairingMismatch(net, net, singles), null);
  assert.match(pairingMismatch(net, flipped(net, 1, 2), singles) ?? '', /layer 2 neuron 2 is identity/);
  const merged = [[0, 1], ...net.layers.slice(2).map((_, k) => [k + 2])];
  assert.match(pairingMismatch(net, net, merged) ?? '', /folds layer 1, which has ReLUs|layer groups/);
  assert.match(pairingMismatch(net, net, [[1], [0], ...singles.slice(2)]) ?? '', /in order/);
});

test('the certificate schema published in docs/ is the one check validates against', () => {
  const docs = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'docs', 'certificate.schema.json'), 'utf8'));
  assert.deepEqual(docs, JSON.parse(JSON.stringify(CERTIFICATE_SCHEMA)));
});

// ---- the CLI on a real prune and a real family of the default network ----

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nns-trust-'));
  const p = cli(['prune', '--default', '--domain', '0,0,0,0,0:0.5,0.5,0.5,0.5,0.5', '--timeout', '5', '-o', join(dir, 'p.json'), '--json']);
  assert.equal(p.code, 0, p.err);
  const s = cli(['slice', '--default', '--domain', '0,0,0,0,0:0.5,0.5,0.5,0.5,0.5', '--max-slices', '3', '--timeout', '5', '-o', join(dir, 'fam'), '--json']);
  assert.equal(s.code, 0, s.err);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh copy of the pruned network and its certificate, edited, in a directory of its own. */
function tampered(name: string, edit: (cert: any, net: any) => void, rehash = true): string {
  const d = join(dir, name);
  cpSync(join(dir, 'p.json'), join(d, 'p.json'), { recursive: true });
  const cert = JSON.parse(readFileSync(join(dir, 'p.json.certificate.json'), 'utf8'));
  const net = JSON.parse(readFileSync(join(dir, 'p.json'), 'utf8'));
  cert.output.path = 'p.json';
  edit(cert, net);
  writeFileSync(join(d, 'p.json'), JSON.stringify(net));
  if (rehash) cert.output.sha256 = networkHash(parseJsonNetwork(JSON.stringify(net), 'p.json').network);
  writeFileSync(join(d, 'cert.json'), JSON.stringify(cert));
  return join(d, 'cert.json');
}

test('check: the untouched certificate is proved (exit 0)', () => {
  const r = cli(['check', tampered('plain', () => {})]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^PROVED/);
});

test('check: every edit that changes what the stored network computes is refuted (exit 1) with a re-checked counterexample', () => {
  const edits: Array<[string, (c: any, n: any) => void]> = [
    ['relu-to-identity', (_c, n) => (n.layers[0].activation[n.layers[0].activation.indexOf('relu')] = 'identity')],
    ['identity-to-relu-on-output', (_c, n) => (n.layers[n.layers.length - 1].activation[0] = 'relu')],
    ['bias-moved', (_c, n) => (n.layers[1].bias[0] += 5)],
    ['bias-moved-a-little', (_c, n) => (n.layers[2].bias[1] += 1e-4)],
    ['weight-moved', (_c, n) => (n.layers[0].weights[0][0] += 0.5)],
    ['exact-slack-raised-and-bias-moved', (c, n) => ((c.floatingPoint.exactTolerance = 100), (n.layers[1].bias[0] += 5))],
  ];
  for (const [name, edit] of edits) {
    const r = cli(['check', tampered(name, edit), '--json']);
    if (name === 'exact-slack-raised-and-bias-moved') {
      // the slack is fixed: a certificate that raises it is refused before any work
      assert.equal(r.code, 2, `${name}: ${r.err}`);
      assert.match(r.err, /exactTolerance 100 is not the fixed slack/);
      continue;
    }
    assert.equal(r.code, 1, `${name}: ${r.out}${r.err}`);
    const j = JSON.parse(r.out);
    assert.equal(j.check.verdict.status, 'refuted', name);
    assert.equal(j.check.witness.length, 5, name);
  }
});

test('check: malformed certificates fail at once with exit 2, naming the field', () => {
  const cases: Array<[string, (c: any) => void, RegExp]> = [
    ['bogus-kind', (c) => (c.tolerance = { kind: 'bogus' }), /tolerance: kind '"bogus"'/],
    ['negative-epsilon', (c) => (c.tolerance = { kind: 'linf', epsilon: -1 }), /tolerance/],
    ['exact-with-epsilon', (c) => (c.tolerance = { kind: 'exact', epsilon: 100 }), /tolerance/],
    ['lo-above-hi', (c) => (c.domain[0].lo[2] = 2), /domain\[0\]: domain coordinate 2 is empty \(lo 2 > hi 0\.5\)/],
    ['four-values', (c) => (c.domain[0].lo.pop(), c.domain[0].hi.pop()), /domain\[0\]\.lo has 4 values but the network has 5 inputs/],
    ['empty-domain', (c) => (c.domain = []), /domain must NOT have fewer than 1 items/],
    ['null-domain', (c) => (c.domain = null), /domain must be array/],
    ['null-in-domain', (c) => (c.domain[0].hi[1] = null), /domain\.0\.hi\.1 must be number/],
    ['bad-hash', (c) => (c.input.sha256 = 'abc'), /input\.sha256 must match pattern/],
    ['bad-precision', (c) => (c.output.precision = 'float8'), /output\.precision must be/],
    ['version-2', (c) => (c.version = 2), /unsupported certificate version/],
    ['float32-claimed', (c) => (c.output.precision = 'float32'), /float32 cannot hold/],
  ];
  for (const [name, edit, msg] of cases) {
    const r = cli(['check', tampered(name, (c) => edit(c), false), '--timeout', '600']);
    assert.equal(r.code, 2, `${name}: ${r.out}${r.err}`);
    assert.match(r.err, msg, name);
    assert.equal(r.err.trim().split('\n').length, 1, name);
  }
});

test('a vacuous claim (epsilon wider than the outputs range) is flagged by check, and by prune before its work', () => {
  const r = cli(['check', tampered('vacuous', (c) => (c.tolerance = { kind: 'linf', epsilon: 1e6 }), false), '--json']);
  assert.equal(r.code, 0, r.err);
  assert.match(JSON.parse(r.out).check.vacuous, /at least the width/);
  // a real tolerance is not flagged
  assert.equal(JSON.parse(cli(['check', tampered('not-vacuous', (c) => (c.tolerance = { kind: 'linf', epsilon: 0.01 }), false), '--json']).out).check.vacuous, undefined);
  const p = cli(['prune', '--default', '--domain', '0,0,0,0,0:0.2,0.2,0.2,0.2,0.2', '--epsilon', '1000', '--timeout', '2', '-o', join(dir, 'v.json')]);
  assert.equal(p.code, 0, p.err);
  assert.match(p.err, /^nnshrink: warning: the claim would be vacuous: epsilon 1000 is at least the width/m);
});

/** A fresh copy of the family, with family.json (and slice certificates) edited. */
function tamperedFamily(name: string, edit: (manifest: any, d: string) => void): string {
  const d = join(dir, `fam-${name}`);
  cpSync(join(dir, 'fam'), d, { recursive: true });
  const m = JSON.parse(readFileSync(join(d, 'family.json'), 'utf8'));
  edit(m, d);
  writeFileSync(join(d, 'family.json'), JSON.stringify(m));
  return d;
}

test('check DIR: a family proved as written (exit 0); enlarged slice boxes, another source, swapped slice networks refused', () => {
  const ok = cli(['check', join(dir, 'fam')]);
  assert.equal(ok.code, 0, ok.out + ok.err);
  const cases: Array<[string, (m: any, d: string) => void, RegExp]> = [
    ['box-enlarged', (m) => (m.slices[0].box.hi[0] += 0.25), /slices\[0\]\.box is not the box the split tree sends/],
    ['source-zeroed', (m) => (m.source.sha256 = '0'.repeat(64)), /another original than the family's source/],
    ['networks-swapped', (m) => ([m.slices[0].network, m.slices[1].network] = [m.slices[1].network, m.slices[0].network]), /not the slice's network/],
    ['tree-cut-moved', (m) => (m.tree.at = 'leaf' in m.tree ? m.tree.at : m.tree.at + 0.01), /is not the box the split tree sends/],
  ];
  for (const [name, edit, msg] of cases) {
    const r = cli(['check', tamperedFamily(name, edit)]);
    assert.equal(r.code, 2, `${name}: ${r.out}${r.err}`);
    assert.match(r.err, msg, name);
  }
  // a slice certificate whose domain no longer covers its box: not proved (3), and says why
  const shrunk = tamperedFamily('cert-shrunk', (_m, d) => {
    const cf = join(d, readdirSync(d).find((f) => f.endsWith('.certificate.json'))!);
    const c = JSON.parse(readFileSync(cf, 'utf8'));
    c.domain[0].hi[0] = c.domain[0].lo[0] + (c.domain[0].hi[0] - c.domain[0].lo[0]) / 2;
    // the slack of the smaller domain, as check recomputes it (else the certificate is refused as malformed)
    c.floatingPoint.exactTolerance = exactSlack(defaultModel().network, [makeBox(c.domain[0].lo, c.domain[0].hi)], 'float64');
    writeFileSync(cf, JSON.stringify(c));
  });
  const r = cli(['check', shrunk]);
  assert.equal(r.code, 3, r.out + r.err);
  assert.match(r.out, /does not cover its box/);
});
