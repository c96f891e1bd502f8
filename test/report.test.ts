/**
 * HTML reports (issue 28): every command's --report page opened in headless Chromium (puppeteer-core): no console
 * errors, no request but the file itself, no horizontal overflow at 1280 px, and the figures drawn are the
 * command's own (--json output, the certificate, the family). A screenshot of each goes to bench/out/report-shots/.
 * Without /usr/bin/chromium the browser tests skip (CI installs it); the escaper's tests run anyway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliIn } from './helpers/run-cli.ts';
import { dataOf, openReport, SKIP_BROWSER, textsOf } from './helpers/report-browser.ts';
import { esc, jsonScript } from '../src/report/html.ts';
import { censusReport } from '../src/report/census.ts';
import { graphPruneNodes } from '../src/report/graph-prune.ts';
import { pytorchCnn, PRUNABLE_CNN_DEAD, PYTORCH_CNN_INPUT } from '../src/demo/cnn.ts';
import { readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { sharedPath, SKIP_SHARED } from './helpers/shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnshrink-report-'));
const run = cliIn(dir);
const at = (name: string): string => join(dir, name);
const UNIT = '0,0,0,0,0:1,1,1,1,1';

test('esc and jsonScript: hostile names cannot inject markup', () => {
  assert.equal(esc(`<img src=x onerror="a()">&'`), '&lt;img src=x onerror=&quot;a()&quot;&gt;&amp;&#39;');
  assert.equal(esc(12), '12');
  const s = jsonScript('d', { name: '</script><script>alert(1)</script>' });
  assert.equal(s.match(/<\/script>/g)?.length, 1, 'only the element itself closes');
  assert.deepEqual(JSON.parse(s.replace(/^<script[^>]*>/, '').replace(/<\/script>$/, '')), { name: '</script><script>alert(1)</script>' });
  const hostile = `<script>alert("x")</script>'"&`;
  const html = censusReport({ model: hostile, kind: 'graph', layers: [{ name: hostile, shape: [2], phases: ['never', 'both'], channels: ['never', 'both'] }], counts: { never: 1, always: 0, both: 1, unknown: 0 }, boxes: 1, timeMs: 1, reason: hostile, version: '0' });
  assert.ok(!html.includes('<script>alert'), 'no markup from the data');
  assert.equal(html.match(/<script/g)?.length, 2, 'the data element and the page script only');
});

test('a report of hostile names shows them as text in the browser, runs nothing of theirs', { skip: SKIP_BROWSER }, async (t) => {
  const hostile = `<img src=x onerror="alert(1)"><script>alert(2)</script>'"&`;
  const file = at('hostile.html');
  writeFileSync(file, censusReport({ model: hostile, kind: 'graph', layers: [{ name: hostile, phases: ['never', 'always', 'both', 'unknown'] }], counts: { never: 1, always: 1, both: 1, unknown: 1 }, boxes: 1, timeMs: 5, version: '0' }));
  await openReport(t, file, 'hostile', async (p) => {
    assert.equal(await p.$eval('h1', (e) => e.textContent), `nnshrink bounds --census: ${hostile}`);
    assert.equal(await p.$$eval('img', (es) => es.length), 0);
    assert.equal(await p.$$eval('script', (es) => es.length), 2);
  });
});

test('prune --report: neurons per layer by reason, sizes, claim and hashes match --json and the certificate', { skip: SKIP_BROWSER }, async (t) => {
  const r = await run('prune', '--default', '--domain', UNIT, '-o', at('p.onnx'), '--report', at('prune.html'), '--max-boxes', '200000', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const cert = JSON.parse(readFileSync(at('p.onnx.certificate.json'), 'utf8'));
  await openReport(t, at('prune.html'), 'prune', async (p) => {
    const totals = await dataOf(p, 'g.layer', 'total');
    assert.deepEqual(totals, j.before.layerSizes.slice(1, -1));
    const kept = await dataOf(p, 'g.layer', 'kept');
    const linear = await dataOf(p, 'g.layer', 'linear');
    const never = await dataOf(p, 'g.layer', 'never');
    // exact: every neuron proved never active goes, every one proved always active becomes linear
    assert.equal(never.reduce((a, b) => a + b), j.census.never);
    assert.equal(linear.reduce((a, b) => a + b), j.census.always);
    assert.ok(j.census.never > 0, 'the run has something to show');
    assert.deepEqual(kept.map((k, i) => k + linear[i]), j.after.layerSizes.slice(1, -1));
    assert.deepEqual(await dataOf(p, '#sizes tr[data-what="parameters"]', 'after'), [j.after.parameters]);
    assert.deepEqual(await dataOf(p, '#sizes tr[data-what="multiply-adds"]', 'before'), [j.before.multiplyAdds]);
    assert.deepEqual(await textsOf(p, 'code.hash'), [cert.input.sha256, cert.output.sha256]);
    assert.ok((await textsOf(p, '#claim dd')).includes(j.finalCheck.claim));
    assert.equal(await p.$eval('#claim .badge', (e) => e.getAttribute('data-status')), 'proved');
    assert.ok((await dataOf(p, 'g.stage', 'ms')).length >= 3, 'time per stage');
  });
});

test('bounds --census --report: one cell per neuron, coloured by its phase as --json says', { skip: SKIP_BROWSER }, async (t) => {
  const r = await run('bounds', '--default', '--domain', UNIT, '--census', '--timeout', '1', '--task-timeout', '0.2', '--jobs', '1', '--report', at('census.html'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  await openReport(t, at('census.html'), 'census', async (p) => {
    const phases = await p.$$eval('.census-layer', (ls) => ls.map((l) => [...l.querySelectorAll('rect.neuron')].map((c) => c.getAttribute('data-phase'))));
    assert.equal(phases.length, j.layers.length);
    for (const [k, L] of j.layers.entries()) {
      assert.equal(phases[k].length, L.neurons);
      assert.deepEqual(phases[k].flatMap((ph, i) => (ph === 'never' ? [i] : [])), L.never);
      assert.deepEqual(phases[k].flatMap((ph, i) => (ph === 'always' ? [i] : [])), L.always);
      assert.equal(phases[k].filter((ph) => ph === 'both').length, L.both);
    }
  });
});

test('bounds --census --report on a graph: neurons and channels per ReLU node as --json says', { skip: SKIP_BROWSER }, async (t) => {
  writeFileSync(at('cnn.onnx'), pytorchCnn());
  const n = PYTORCH_CNN_INPUT.reduce((a, b) => a * b, 1);
  const spec = `${new Array(n).fill(0.3).join(',')}:${new Array(n).fill(0.32).join(',')}`;
  const r = await run('bounds', at('cnn.onnx'), '--domain', spec, '--census', '--timeout', '2', '--report', at('graph-census.html'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  await openReport(t, at('graph-census.html'), 'graph-census', async (p) => {
    const layers = await p.$$eval('.census-layer', (ls) => ls.map((l) => ({ name: l.getAttribute('data-layer'), neurons: [...l.querySelectorAll('rect.neuron')].map((c) => c.getAttribute('data-phase')), channels: [...l.querySelectorAll('rect.channel')].map((c) => c.getAttribute('data-phase')) })));
    assert.deepEqual(layers.map((L) => L.name), j.layers.map((L: { node: string }) => L.node));
    for (const [k, L] of j.layers.entries()) {
      for (const ph of ['never', 'always', 'both', 'unknown']) assert.equal(layers[k].neurons.filter((x) => x === ph).length, L.counts[ph], `${L.node} ${ph}`);
      if (L.channels) assert.deepEqual(layers[k].channels, L.channels.phases);
    }
  });
});

/** The two inputs the split tree cuts most (ties: the lower), lower first: what the report draws by default. */
function mostCut(tree: unknown, n: number): number[] {
  const cuts = new Array<number>(n).fill(0);
  const walk = (x: { dim?: number; left?: unknown; right?: unknown }): void => {
    if (x.dim === undefined) return;
    cuts[x.dim]++;
    walk(x.left as object);
    walk(x.right as object);
  };
  walk(tree as object);
  const byCuts = cuts.map((c, i) => ({ c, i })).sort((a, b) => b.c - a.c || a.i - b.i);
  return [byCuts[0].i, byCuts[1].i].sort((a, b) => a - b);
}

test('slice --report: one box per slice coloured by its size, a histogram of the sizes, the most cut inputs drawn; check --report of the family', { skip: SKIP_BROWSER }, async (t) => {
  const r = await run('slice', '--default', '--max-slices', '8', '--timeout', '0.3', '--jobs', '1', '-o', at('fam'), '--report', at('slice.html'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const fam = JSON.parse(readFileSync(at('fam/family.json'), 'utf8'));
  await openReport(t, at('slice.html'), 'slice', async (p) => {
    const boxes = await p.$$eval('rect.box', (es) => es.map((e) => [Number(e.getAttribute('data-slice')), Number(e.getAttribute('data-relu'))]));
    assert.equal(boxes.length, j.slices);
    for (const [k, relu] of boxes) assert.equal(relu, fam.slices[k].sizes.reluNeurons, `slice ${k}`);
    assert.equal((await dataOf(p, 'rect.bin', 'count')).reduce((a, b) => a + b), j.slices);
    assert.equal(await p.$eval('#boxes', (e) => e.getAttribute('data-dims')), mostCut(fam.tree, 5).join(','));
    assert.deepEqual(await dataOf(p, '#slices tbody tr', 'relu'), fam.slices.map((s: { sizes: { reluNeurons: number } }) => s.sizes.reluNeurons));
  });
  // check of the family: one row per slice certificate
  const ck = await run('check', at('fam'), '--report', at('family-check.html'), '--json');
  assert.equal(ck.code, 0, ck.err);
  const cj = JSON.parse(ck.out);
  await openReport(t, at('family-check.html'), 'family-check', async (p) => {
    assert.equal(await p.$eval('#claim .badge', (e) => e.getAttribute('data-status')), 'proved');
    assert.deepEqual(await p.$$eval('#slices tbody tr', (es) => es.map((e) => e.getAttribute('data-ok'))), cj.slices.map((s: { ok: boolean }) => String(s.ok)));
    assert.deepEqual(await textsOf(p, 'code.hash'), [fam.source.sha256]);
  });
});

test('slice: --report and --report-dims refused before any work when wrong', async () => {
  const bad = [
    [['--report-dims', '0,1'], /--report-dims goes with --report/],
    [['--report', at('s2.html'), '--report-dims', '0,5'], /--report-dims: '0,5' \(expected I,J: two different inputs from 0 to 4\)/],
    [['--report', at('s2.html'), '--report-dims', '2,2'], /--report-dims: '2,2'/],
    [['--report', at('no-such-dir/s.html')], /--report .*no-such-dir.*cannot write/],
  ] as const;
  for (const [args, msg] of bad) {
    const r = await run('slice', '--default', '-o', at('fam-bad'), ...args);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, msg);
    assert.ok(!existsSync(at('fam-bad')), 'nothing written');
  }
  const v = await run('verify', '--default', at('none.vnnlib'), '--report', at('v.html'));
  assert.equal(v.code, 2);
  assert.match(v.err, /--report goes with --instances/);
  const b = await run('bounds', '--default', '--report', at('b.html'));
  assert.equal(b.code, 2);
  assert.match(b.err, /--report goes with --census/);
});

test('verify --instances --report: the verdict table and the cactus plot match --json', { skip: SKIP_BROWSER }, async (t) => {
  assert.equal((await run('convert', '--default', at('net.json'))).code, 0);
  const prop = (name: string, assertion: string): string => {
    const ls = [0, 1, 2, 3, 4].map((i) => `(declare-const X_${i} Real)`).concat([0, 1, 2].map((i) => `(declare-const Y_${i} Real)`));
    for (let i = 0; i < 5; i++) ls.push(`(assert (>= X_${i} -1))`, `(assert (<= X_${i} 1))`);
    writeFileSync(at(name), [...ls, assertion].join('\n') + '\n');
    return name;
  };
  const props = [prop('unsat.vnnlib', '(assert (>= Y_0 1000000))'), prop('sat.vnnlib', '(assert (<= Y_0 1000000))'), prop('unsat2.vnnlib', '(assert (<= Y_1 -1000000))')];
  writeFileSync(at('list.csv'), props.map((p) => `net.json,${p},20`).join('\n') + '\n');
  const r = await run('verify', '--instances', at('list.csv'), '--jobs', '1', '--report', at('instances.html'), '--json');
  assert.equal(r.code, 0, r.err);
  const j: Array<{ result: string; timeMs: number }> = JSON.parse(r.out);
  assert.deepEqual(j.map((x) => x.result), ['unsat', 'sat', 'unsat']);
  await openReport(t, at('instances.html'), 'instances', async (p) => {
    assert.deepEqual(await p.$$eval('#verdicts tbody tr', (es) => es.map((e) => e.getAttribute('data-verdict'))), j.map((x) => x.result));
    assert.deepEqual(await dataOf(p, '#verdicts tbody tr', 'ms'), j.map((x) => x.timeMs));
    // the decided series: k-th point at the k-th smallest time
    const decided = await p.$$eval('#cactus g.series[data-name^="decided"] circle', (es) => es.map((e) => Number(e.getAttribute('data-time'))));
    assert.deepEqual(decided, j.map((x) => x.timeMs / 1000).sort((a, b) => a - b));
    assert.equal(await p.$$eval('#cactus g.series[data-name="sat"] circle', (es) => es.length), 1);
  });
});

test('check --report on a prune certificate: claim, verdict, method and hashes', { skip: SKIP_BROWSER }, async (t) => {
  if (!existsSync(at('p.onnx.certificate.json'))) {
    const pr = await run('prune', '--default', '--domain', UNIT, '-o', at('p.onnx'), '--max-boxes', '200000', '--json');
    assert.equal(pr.code, 0, pr.err);
  }
  const r = await run('check', at('p.onnx.certificate.json'), '--report', at('check.html'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const cert = JSON.parse(readFileSync(at('p.onnx.certificate.json'), 'utf8'));
  await openReport(t, at('check.html'), 'check', async (p) => {
    assert.equal(await p.$eval('#claim .badge', (e) => e.getAttribute('data-status')), 'proved');
    assert.ok((await textsOf(p, '#claim dd')).includes(j.check.claim));
    assert.ok((await textsOf(p, '#claim dd')).some((s) => s.startsWith(j.check.verdict.method)));
    assert.deepEqual(await textsOf(p, 'code.hash'), [cert.input.sha256, cert.output.sha256]);
  });
});

test('graph prune and check: the graph prune report (channels per node by reason) and the check report', { skip: SKIP_BROWSER }, async (t) => {
  writeFileSync(at('dead.onnx'), pytorchCnn({ dead: PRUNABLE_CNN_DEAD }));
  const n = PYTORCH_CNN_INPUT.reduce((a, b) => a * b, 1);
  const spec = `${new Array(n).fill(0.48).join(',')}:${new Array(n).fill(0.5).join(',')}`;
  // the report as prune --report writes it, in one set with the pruned file and its certificate
  const pr = await run('prune', at('dead.onnx'), '--domain', spec, '-o', at('g.onnx'), '--report', at('graph-prune.html'), '--timeout', '10', '--json');
  assert.equal(pr.code, 0, pr.err);
  const j = JSON.parse(pr.out);
  const cert = JSON.parse(readFileSync(at('g.onnx.certificate.json'), 'utf8'));
  await openReport(t, at('graph-prune.html'), 'graph-prune', async (p) => {
    const rows = await p.$$eval('g.node', (es) => es.map((e) => ['node', 'before', 'dead', 'killed', 'after'].map((k) => e.getAttribute(`data-${k}`))));
    assert.deepEqual(rows.map((r) => [r[0], Number(r[1]), Number(r[4])]), j.channels.map((c: { node: string; before: number; after: number }) => [c.node, c.before, c.after]));
    for (const r of rows) assert.equal(Number(r[2]) + Number(r[3]), Number(r[1]) - Number(r[4]), `${r[0]}: dead + killed = removed`);
    assert.ok(rows.some((r) => Number(r[2]) > 0), 'some channel is dead');
    assert.deepEqual(await dataOf(p, '#sizes tbody tr', 'after'), [j.parameters.after]);
    assert.deepEqual(await textsOf(p, 'code.hash'), [cert.input.sha256, cert.output.sha256]);
  });
  const ck = await run('check', at('g.onnx.certificate.json'), '--report', at('graph-check.html'), '--json');
  assert.equal(ck.code, 0, ck.err);
  const cj = JSON.parse(ck.out);
  await openReport(t, at('graph-check.html'), 'graph-check', async (p) => {
    assert.equal(await p.$eval('#claim .badge', (e) => e.getAttribute('data-status')), 'proved');
    assert.ok((await textsOf(p, '#claim dd')).includes(cj.check.claim));
    assert.deepEqual(await textsOf(p, 'code.hash'), [cert.input.sha256, cert.output.sha256]);
  });
});

test('neuronReasons: what the edits did, and why the steps say (a tolerance step counts as tolerance)', async () => {
  const { neuronReasons } = await import('../src/report/prune.ts');
  const verdict = { status: 'proved' as const, method: 'bounds', timeMs: 0 };
  // layer 0: kept, never active, linear, merged, removed within the tolerance, merged within it; layer 1: output
  const cert = {
    edits: { state: [[0, 1, 2, 3, 1, 3], [0, 0]] },
    steps: [
      { kind: 'never-active', layer: 0, neuron: 1, verdict },
      { kind: 'always-active', layer: 0, neuron: 2, verdict },
      { kind: 'merge', layer: 0, neuron: 3, verdict },
      { kind: 'tolerance-remove', layer: 0, neuron: 4, verdict },
      { kind: 'tolerance-merge', layer: 0, neuron: 5, verdict },
    ],
  } as unknown as Parameters<typeof neuronReasons>[0];
  assert.deepEqual(neuronReasons(cert), [{ 'never active': 1, 'always active / linear': 1, merged: 1, tolerance: 2, kept: 1 }]);
});

test('graphPruneNodes: a kill at a ReLU counts on the conv / dense node that makes its channels, the rest removed are dead', () => {
  const f = readOnnxGraph((writeFileSync(at('kills.onnx'), pytorchCnn()), at('kills.onnx')));
  const relu = f.nodes.find((n) => n.name === '/relu_2/Relu')!;
  const fc1 = f.nodes.find((n) => n.output === relu.inputs[0])!;
  assert.equal(fc1.op, 'dense');
  const summary = { nodes: [{ node: fc1.name, op: 'dense', before: 16, after: 13 }, { node: '/conv1/Conv', op: 'conv', before: 8, after: 8 }], parametersBefore: 1, parametersAfter: 1 };
  // channels 0 and 1 killed by the class search, 3 dead; listed on the ReLU's output tensor, as prune lists them
  const removed = new Map([[relu.output, [0, 1, 3]]]);
  const nodes = graphPruneNodes(f, summary, removed, new Map([['/relu_2/Relu', [0, 1]]]));
  assert.deepEqual(nodes, [
    { node: fc1.name, op: 'dense', before: 16, dead: 1, killed: 2, after: 13 },
    { node: '/conv1/Conv', op: 'conv', before: 8, dead: 0, killed: 0, after: 8 },
  ]);
  assert.equal(graphPruneNodes(f, summary, removed)[0].killed, 0, 'no kills: every removed channel is dead');
});

test('bounds --census --report on a real CNN (cifar10_resnet 2b, ../shared): six ReLU layers drawn, counts as --json says, no overflow', { skip: SKIP_BROWSER || SKIP_SHARED }, async (t) => {
  const base = sharedPath('cnn', 'cifar10_resnet');
  const prop = join(base, 'vnnlib_properties_pgd_filtered', 'resnet2b_pgd_filtered', 'prop_0_eps_0.008.vnnlib');
  const r = await run('bounds', join(base, 'onnx', 'resnet_2b.onnx'), '--vnnlib', prop, '--census', '--timeout', '3', '--report', at('resnet-census.html'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  await openReport(t, at('resnet-census.html'), 'resnet-census', async (p) => {
    const counts = await p.$$eval('.census-layer', (ls) => ls.map((l) => ['never', 'always', 'both', 'unknown'].map((k) => l.querySelectorAll(`rect.neuron[data-phase="${k}"]`).length)));
    assert.deepEqual(counts, j.layers.map((L: { counts: Record<string, number> }) => [L.counts.never, L.counts.always, L.counts.both, L.counts.unknown]));
  });
});

test('sliceReport: the inputs asked for are drawn, else the two the tree cuts most; boxes placed by their bounds', async () => {
  const { sliceReport, mostSplitDims } = await import('../src/report/slice.ts');
  // X_2 cut twice, X_0 once, X_1 never
  const tree = { dim: 2, at: 0, left: { leaf: 0 }, right: { dim: 0, at: 0, left: { leaf: 1 }, right: { dim: 2, at: 0.5, left: { leaf: 2 }, right: { leaf: 3 } } } };
  assert.deepEqual(mostSplitDims(tree, 3), [0, 2]);
  const boxes = [
    { lo: [-1, -1, -1], hi: [1, 1, 0] },
    { lo: [-1, -1, 0], hi: [0, 1, 1] },
    { lo: [0, -1, 0], hi: [1, 1, 0.5] },
    { lo: [0, -1, 0.5], hi: [1, 1, 1] },
  ];
  const input = { model: 'm', family: 'f', strategy: 'adaptive', boxes, relu: [5, 6, 7, 8], parameters: [50, 60, 70, 80], sourceRelu: 9, sourceParameters: 90, root: { lo: [-1, -1, -1], hi: [1, 1, 1] }, tree, familyCheck: { points: 1, boundaryPoints: 0, maxAbsDiff: 0 }, fallbackSlices: 0, timeMs: 1, version: '0' };
  assert.match(sliceReport(input), /id="boxes" data-dims="0,2"/);
  const asked = sliceReport({ ...input, dims: [1, 2] });
  assert.match(asked, /id="boxes" data-dims="1,2"/);
  assert.match(asked, />X_1</);
  // every slice spans X_1 whole: drawn across the plot's whole width
  const widths = [...asked.matchAll(/<rect class="box" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[2]));
  assert.equal(widths.length, 4);
  assert.ok(widths.every((w) => Math.abs(w - widths[0]) < 1e-9 && w > 400), `${widths}`);
});
