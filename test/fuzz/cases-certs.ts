/**
 * Tampered certificates and families: the most important cases. An edit that changes what the stored networks
 * compute, or a claim that is false, must be REFUTED (exit 1): each such case carries a witness found here by an
 * evaluator of our own (forward.ts), a point where the claim fails on a sizeable share of the domain. Edits that
 * break the certificate's schema or the family's structure must be refused as bad input (exit 2) before any work.
 */
import { parseJsonNetwork } from '../../src/formats/json.ts';
import { networkHash } from '../../src/model/hash.ts';
import { defaultNetwork } from '../../src/demo/default-network.ts';
import { exactSlack } from '../../src/simplify/final-check.ts';
import { makeBox } from '../../src/model/box.ts';
import { enc, JUNK, makeRng, pickOffsets, range, replaceByte, truncate } from './bytes.ts';
import { plainOf, witness, type PlainNet } from './forward.ts';
import type { Artifacts } from './artifacts.ts';
import { badInput, type FuzzCase, type FileSpec } from './types.ts';

type Json = Record<string, any>;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const hashOf = (netText: string): string => networkHash(parseJsonNetwork(netText, 'tampered.json').network);
const text = (o: Json): string => JSON.stringify(o, null, 1) + '\n';
const ORIGINAL: PlainNet = plainOf(defaultNetwork());

/** A refuted case, with its witness checked: the claim must fail on at least 1% of sampled points. */
function refuted(name: string, kind: string, files: Record<string, FileSpec>, argv: string[], f: PlainNet, g: PlainNet, box: { lo: number[]; hi: number[] }, claim: number, what: string): FuzzCase {
  const w = witness(f, g, box.lo, box.hi, claim);
  if (!(w.share >= 0.01)) throw new Error(`fuzz corpus: ${name}: no witness (largest |f-g| ${w.max}, share ${w.share}): pick another edit`);
  const why = `${what}; witness x = [${w.x.map((v) => v.toFixed(3)).join(', ')}] gives |f-g| = ${w.max.toPrecision(3)} > ${claim}, on ${(100 * w.share).toFixed(0)}% of the domain`;
  return { name, kind, files, argv, expect: 'refuted', why };
}

interface Net {
  inputSize: number;
  layers: Array<{ weights: number[][]; bias: number[]; activation: string[] }>;
}

/** Hidden neurons of `net` ranked by how much switching them to identity changes the output on the box. */
function bestReluSwitch(net: Net, box: { lo: number[]; hi: number[] }, threshold: number, subtle = false): [number, number] {
  let best: [number, number] = [0, 0];
  let bestShare = -1;
  let bestMax = Infinity;
  net.layers.slice(0, -1).forEach((L, k) =>
    L.activation.forEach((a, i) => {
      if (a !== 'relu') return;
      const g = clone(net);
      g.layers[k].activation[i] = 'identity';
      const w = witness(net, g, box.lo, box.hi, threshold, 300, 11);
      // subtle: the smallest change that still shows on a few per cent of the box (the 0.03 case)
      if (subtle ? w.share >= 0.05 && w.max < bestMax : w.share > bestShare) {
        bestMax = w.max;
        bestShare = w.share;
        best = [k, i];
      }
    }),
  );
  return best;
}

/** The first-layer neuron most often active on the box (moving its weights or bias shows in the output). */
function mostActive(net: Net, box: { lo: number[]; hi: number[] }): number {
  const L = net.layers[0];
  const counts = L.bias.map(() => 0);
  for (let s = 0; s < 200; s++) {
    const x = box.lo.map((l, j) => l + ((s * 0.618 * (j + 1)) % 1) * (box.hi[j] - l));
    L.weights.forEach((row, i) => {
      if (row.reduce((z, w, j) => z + w * x[j], L.bias[i]) > 0) counts[i]++;
    });
  }
  return counts.indexOf(Math.max(...counts));
}

function certCases(a: Artifacts): FuzzCase[] {
  const net: Net = JSON.parse(a.pruned);
  const cert: Json = JSON.parse(a.certificate);
  const box = cert.domain[0];
  const exactClaim = 1e-6; // far above any floating-point slack: what 'exact' may differ by
  const argv = ['check', 'p.json.certificate.json'];
  const out: FuzzCase[] = [];
  /** the certificate edited, the pruned network edited (its hash put right, as a tamperer would) */
  const tamper = (editNet: ((n: Net) => void) | null, editCert: (c: Json) => void): { files: Record<string, FileSpec>; g: Net } => {
    const g = clone(net);
    editNet?.(g);
    const gText = JSON.stringify(g);
    const c = clone(cert);
    if (editNet) c.output.sha256 = hashOf(gText);
    editCert(c);
    return { files: { 'p.json': editNet ? gText : a.pruned, 'p.json.certificate.json': text(c) }, g };
  };
  const netEdit = (name: string, what: string, e: (n: Net) => void, editCert: (c: Json) => void = () => {}, claim = exactClaim): void => {
    const { files, g } = tamper(e, editCert);
    out.push(refuted(`cert-${name}`, 'tamper-cert', files, argv, ORIGINAL, g, box, claim, what));
  };
  const [rk, ri] = bestReluSwitch(net, box, 1e-3);
  const [sk, si] = bestReluSwitch(net, box, 1e-5, true);
  const act = mostActive(net, box);
  const last = net.layers.length - 1;
  netEdit('relu-to-identity', `layer ${rk + 1} neuron ${ri + 1} of the pruned network switched from ReLU to identity`, (n) => (n.layers[rk].activation[ri] = 'identity'));
  netEdit('relu-to-identity-subtle', `layer ${sk + 1} neuron ${si + 1} (negative on a small part of the box) switched to identity`, (n) => (n.layers[sk].activation[si] = 'identity'));
  netEdit('relu-to-identity-linf', `the same ReLU switched, and the claim loosened to max |f-g| <= 0.001`, (n) => (n.layers[rk].activation[ri] = 'identity'), (c) => (c.tolerance = { kind: 'linf', epsilon: 0.001 }), 0.001);
  netEdit('output-identity-to-relu', 'every output of the pruned network made a ReLU (negative scores become 0)', (n) => n.layers[last].activation.fill('relu'));
  netEdit('weight-small', `weight [1, ${act + 1}, 1] moved by 1e-3`, (n) => (n.layers[0].weights[act][0] += 1e-3));
  netEdit('weight-large', `weight [1, ${act + 1}, 1] moved by 5`, (n) => (n.layers[0].weights[act][0] += 5));
  netEdit('bias-small', `layer 1 bias ${act + 1} moved by 1e-3`, (n) => (n.layers[0].bias[act] += 1e-3));
  netEdit('bias-large', `layer 1 bias ${act + 1} moved by 5`, (n) => (n.layers[0].bias[act] += 5));
  netEdit('output-bias-tiny', 'output bias 1 moved by 1e-4', (n) => (n.layers[last].bias[0] += 1e-4));
  netEdit('output-weight-sign', 'output weight [1, 1] negated', (n) => (n.layers[last].weights[0][0] = -n.layers[last].weights[0][0] - 0.1));
  // claims about the networks as they are, made false by an edit of the claim itself; the certificate is kept
  // consistent otherwise (the fixed exact slack recomputed for the new original or domain, as a tamperer would)
  const slackFor = (orig: PlainNet, domain: Array<{ lo: number[]; hi: number[] }>): number =>
    exactSlack(parseJsonNetwork(JSON.stringify({ format: 'nnshrink-network', version: 1, ...orig }), 'original.json').network, domain.map((b) => makeBox(b.lo, b.hi)), 'float64');
  const whole = [{ lo: [-1, -1, -1, -1, -1], hi: [1, 1, 1, 1, 1] }];
  const other = clone(ORIGINAL);
  other.layers[last].bias[1] += 0.5;
  const otherText = JSON.stringify({ format: 'nnshrink-network', version: 1, ...other });
  for (const [tag, tol, claim] of [['', { kind: 'exact' }, exactClaim], ['-linf', { kind: 'linf', epsilon: 0.001 }, 0.001]] as const) {
    const c = clone(cert);
    c.tolerance = tol;
    c.domain = whole;
    c.floatingPoint.exactTolerance = slackFor(ORIGINAL, whole);
    out.push(refuted(`cert-domain-enlarged${tag}`, 'tamper-cert', { 'p.json': a.pruned, 'p.json.certificate.json': text(c) }, argv, ORIGINAL, net, whole[0], claim,
      `the domain enlarged from [0,1]^5 to [-1,1]^5 (claim: ${tol.kind === 'exact' ? 'exact' : 'max |f-g| <= 0.001'}), where removed neurons are active`));
    const c2 = clone(cert);
    c2.tolerance = tol;
    c2.input = { ...c2.input, path: 'other.json', sha256: hashOf(otherText) };
    c2.floatingPoint.exactTolerance = slackFor(other, c2.domain);
    out.push(refuted(`cert-other-original${tag}`, 'tamper-cert', { 'p.json': a.pruned, 'other.json': otherText, 'p.json.certificate.json': text(c2) }, argv, other, net, box, claim,
      'the certificate names another original (the default with output bias 2 moved by 0.5, its hash right)'));
  }
  // schema: each refused before any work
  const schema: Array<[string, (c: Json) => void, string]> = [
    ['exact-tolerance-100', (c) => (c.floatingPoint.exactTolerance = 100), 'an exact certificate cannot raise its own floating-point slack'],
    ['tolerance-bogus', (c) => (c.tolerance = { kind: 'bogus' }), "an unknown tolerance kind 'bogus' is not exact"],
    ['epsilon-negative', (c) => (c.tolerance = { kind: 'linf', epsilon: -1 }), 'epsilon -1: a malformed claim, not a failed proof'],
    ['epsilon-nan', (c) => (c.tolerance = { kind: 'linf', epsilon: 'NaN' }), 'epsilon NaN (JSON has no NaN: a string)'],
    ['epsilon-null', (c) => (c.tolerance = { kind: 'linf', epsilon: null }), 'epsilon null'],
    ['epsilon-missing', (c) => (c.tolerance = { kind: 'linf' }), 'a linf tolerance without epsilon'],
    ['class-order-bogus', (c) => (c.tolerance = { kind: 'class', order: 'bogus', margin: 0 }), "a class order 'bogus'"],
    ['class-margin-negative', (c) => (c.tolerance = { kind: 'class', order: 'argmax', margin: -1 }), 'a negative margin'],
    ['domain-lo-above-hi', (c) => (c.domain[0].lo[2] = 2), 'domain lo 2 > hi 1'],
    ['domain-short', (c) => (c.domain[0].lo.pop(), c.domain[0].hi.pop()), '4 values for 5 inputs'],
    ['domain-empty-list', (c) => (c.domain = []), 'a domain of no boxes'],
    ['domain-null', (c) => (c.domain = null), 'domain null'],
    ['domain-null-value', (c) => (c.domain[0].hi[1] = null), 'null in a domain bound'],
    ['domain-nan', (c) => (c.domain[0].lo[0] = 'NaN'), 'NaN in a domain bound'],
    ['output-hash-zeroed', (c) => (c.output.sha256 = '0'.repeat(64)), 'the stored pruned network is not the one the certificate describes'],
    ['input-hash-changed', (c) => (c.input.sha256 = c.input.sha256.replace(/^./, (ch: string) => (ch === 'a' ? 'b' : 'a'))), 'the original is not the one the certificate was made for'],
    ['hash-not-hex', (c) => (c.output.sha256 = 'not a hash'), 'a hash that is not 64 hex digits'],
    ['output-missing-file', (c) => (c.output.path = 'gone.json'), 'the pruned network file does not exist'],
    ['output-is-certificate', (c) => (c.output.path = 'p.json.certificate.json'), 'the certificate names itself as the network'],
    ['version-2', (c) => (c.version = 2), 'an unknown certificate version'],
    ['format-wrong', (c) => (c.format = 'nnshrink-network'), 'not a certificate'],
    ['no-edits', (c) => delete c.edits, 'a required field missing'],
    ['no-tolerance', (c) => delete c.tolerance, 'the claim itself missing'],
    ['no-domain', (c) => delete c.domain, 'the domain missing'],
    ['precision-bogus', (c) => (c.output.precision = 'float8'), "a precision 'float8'"],
  ];
  for (const [name, e, why] of schema) out.push(badInput(`cert-${name}`, name.startsWith('domain') ? 'cert-domain' : 'tamper-cert', tamper(null, e).files, argv, why));
  {
    // the exact slack raised and a bias moved by 5: still refused (the slack is checked before any work)
    const { files } = tamper((n) => (n.layers[0].bias[act] += 5), (c) => (c.floatingPoint.exactTolerance = 100));
    out.push(badInput('cert-exact-tolerance-100-bias-moved', 'tamper-cert', files, argv, 'exactTolerance 100 is not the fixed slack: refused before any work, so the moved bias never passes'));
  }
  const certText = text(cert);
  const structural = range(0, certText.length).filter((i) => /[{}[\]:,"]/.test(certText[i]));
  const rng = makeRng(2501);
  for (const at of pickOffsets(range(0, certText.lastIndexOf('}')), 4, rng)) {
    out.push(badInput(`cert-trunc-${at}`, 'truncation', { 'p.json': a.pruned, 'p.json.certificate.json': truncate(enc(certText), at) }, argv, 'a certificate cut short: not JSON'));
  }
  for (const at of [structural[5], structural[Math.floor(structural.length / 2)], structural[structural.length - 2]]) {
    out.push(badInput(`cert-flip-${at}`, 'byte-flip', { 'p.json': a.pruned, 'p.json.certificate.json': replaceByte(enc(certText), at, JUNK[0]) }, argv, 'JSON punctuation replaced: not JSON'));
  }
  return out;
}

function familyCases(a: Artifacts): FuzzCase[] {
  const fam = a.family;
  const manifest: Json = JSON.parse(fam['family.json']);
  const argv = ['check', 'fam'];
  const out: FuzzCase[] = [];
  /** the family's files with some replaced (null: removed) */
  const files = (over: Record<string, string | null>): Record<string, FileSpec> => {
    const r: Record<string, FileSpec> = {};
    for (const [k, v] of Object.entries({ ...fam, ...over })) if (v !== null) r[`fam/${k}`] = v;
    return r;
  };
  const editManifest = (e: (m: Json) => void): Record<string, FileSpec> => {
    const m = clone(manifest);
    e(m);
    return files({ 'family.json': text(m) });
  };
  const s0 = manifest.slices[0];
  const s0net: Net = JSON.parse(fam[s0.network]);
  const s0cert: Json = JSON.parse(fam[s0.certificate]);
  const box0 = s0.box;
  const sliceEdit = (name: string, what: string, e: (n: Net) => void): void => {
    const g = clone(s0net);
    e(g);
    const gText = JSON.stringify(g);
    const c = clone(s0cert);
    c.output.sha256 = hashOf(gText);
    out.push(refuted(`family-${name}`, 'tamper-family', files({ [s0.network]: gText, [s0.certificate]: text(c) }), argv, ORIGINAL, g, box0, 1e-6, what));
  };
  const act = mostActive(s0net, box0);
  const [rk, ri] = bestReluSwitch(s0net, box0, 1e-3);
  sliceEdit('slice-weight-moved', `slice 0 weight [1, ${act + 1}, 1] moved by 0.5, its certificate's hash put right`, (n) => (n.layers[0].weights[act][0] += 0.5));
  sliceEdit('slice-relu-to-identity', `slice 0 layer ${rk + 1} neuron ${ri + 1} switched to identity, hash put right`, (n) => (n.layers[rk].activation[ri] = 'identity'));
  const leafAt = manifest.tree.at;
  const structural: Array<[string, Record<string, FileSpec>, string]> = [
    ['box-enlarged', editManifest((m) => (m.slices[0].box.hi[0] = 0.25)), "slice 0's box in family.json is larger than what the dispatcher sends it"],
    ['source-hash-zeroed', editManifest((m) => (m.source.sha256 = '0'.repeat(64))), "the family's source is not the slices' original"],
    ['tree-moved', editManifest((m) => (m.tree.at = leafAt + 0.25)), 'the split tree moved: the slice boxes are no longer what it sends them'],
    ['root-enlarged', editManifest((m) => (m.root.hi[2] = 2)), 'the root box is not the hull of the slice boxes'],
    ['slice-dropped', editManifest((m) => m.slices.pop()), 'a leaf of the split tree has no slice'],
    ['slice-network-swapped', editManifest((m) => (m.slices[0].network = m.slices[3].network)), "slice 0's certificate describes another network than the one the manifest names"],
    ['tolerance-bogus', editManifest((m) => (m.tolerance = { kind: 'bogus' })), "an unknown tolerance kind 'bogus'"],
    ['format-wrong', editManifest((m) => (m.format = 'nnshrink-certificate')), 'not a family manifest'],
    ['network-missing', files({ [manifest.slices[2].network]: null }), "slice 2's network file is missing"],
    ['certificate-missing', files({ [manifest.slices[1].certificate]: null }), "slice 1's certificate is missing"],
  ];
  {
    const c = clone(s0cert);
    c.domain[0].hi[1] = 0.5;
    structural.push(['slice-certificate-domain-shrunk', files({ [s0.certificate]: text(c) }), "slice 0's certificate covers only part of its box"]);
    const other = clone(ORIGINAL);
    other.layers[other.layers.length - 1].bias[1] += 0.5;
    const otherText = JSON.stringify({ format: 'nnshrink-network', version: 1, ...other });
    const c2 = clone(s0cert);
    c2.input = { ...c2.input, path: 'other.json', sha256: hashOf(otherText) };
    structural.push(['slice-certificate-other-original', files({ 'other.json': otherText, [s0.certificate]: text(c2) }), "slice 0's certificate names another original than the family's source"]);
    const c3 = clone(s0cert);
    c3.output = { ...c3.output, path: manifest.slices[1].network, sha256: JSON.parse(fam[manifest.slices[1].certificate]).output.sha256 };
    structural.push(['slice-certificate-names-other-slice', files({ [s0.certificate]: text(c3) }), "slice 0's certificate is about slice 1's network, not the one the family dispatches to"]);
  }
  for (const [name, f, why] of structural) out.push(badInput(`family-${name}`, 'tamper-family', f, argv, why));
  const mText = fam['family.json'];
  for (const at of [1, Math.floor(mText.length / 2), mText.lastIndexOf('}') - 1]) {
    out.push(badInput(`family-trunc-${at}`, 'truncation', files({ 'family.json': mText.slice(0, at) }), argv, 'a manifest cut short: not JSON'));
  }
  return out;
}

export function tamperCases(a: Artifacts): FuzzCase[] {
  return [...certCases(a), ...familyCases(a)];
}

/** The untouched artifacts: `check` must prove them (exit 0), or every 'refuted' above would prove nothing. */
export function controlCases(a: Artifacts): Array<{ name: string; files: Record<string, FileSpec>; argv: string[] }> {
  const fam: Record<string, FileSpec> = {};
  for (const [k, v] of Object.entries(a.family)) fam[`fam/${k}`] = v;
  return [
    { name: 'control-certificate', files: { 'p.json': a.pruned, 'p.json.certificate.json': a.certificate }, argv: ['check', 'p.json.certificate.json'] },
    { name: 'control-family', files: fam, argv: ['check', 'fam'] },
  ];
}
