/**
 * The library's bounds, optimize and neuronPhase (src/api/bounds.ts) and census on a graph, against plain
 * evaluation of sampled points: bounds hulled over several boxes hold every sampled value of each, an enclosure of
 * a maximum holds every sampled value below its bound and its witness re-evaluates to its value, a phase agrees with
 * the samples; bad objectives are NnsError bad-input; an abort (given, or from the progress callback) rejects
 * with AbortError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bounds, census, forwardGraph, makeBox, neuronPhase, NnsError, optimize, type Box } from '../src/index.ts';
import { forwardTrace } from '../src/model/network.ts';
import { samplePoints } from '../src/model/box.ts';
import { mulberry32 } from '../src/model/rng.ts';
import { buildGraph } from '../src/model/graph/build.ts';
import { randomNetwork } from './helpers/nets.ts';
import { GraphBuilder } from './helpers/graph-build.ts';

const net = randomNetwork(11, [3, 10, 8, 2]);
const boxes = [makeBox([-1, -0.5, 0], [0, 0.5, 1]), makeBox([0.2, -1, -1], [1, 0, 0.5])];
const N = 1500;
const sample = (b: Box, seed: number): Float64Array => samplePoints(b, N, mulberry32(seed));

const isCode = (code: string) => (e: unknown): boolean => e instanceof NnsError && e.code === code;

test('bounds over two boxes, every method: each sampled pre-activation of each box lies in the hull', async () => {
  for (const method of ['interval', 'symbolic', 'crown', 'alpha'] as const) {
    const r = await bounds(net, boxes, { method });
    assert.equal(r.kind, 'chain');
    assert.equal(r.layers.length, net.layers.length);
    boxes.forEach((b, j) => {
      const tr = forwardTrace(net, sample(b, 3 + j), N);
      net.layers.forEach((L, k) => {
        for (let s = 0; s < N; s++) {
          for (let i = 0; i < L.outSize; i++) {
            const z = tr.pre[k][s * L.outSize + i];
            assert.ok(r.layers[k].lo[i] <= z && z <= r.layers[k].hi[i], `${method}: box ${j} layer ${k} neuron ${i}: ${z}`);
          }
        }
      });
    });
  }
  await assert.rejects(bounds(net, boxes, { method: 'exact' as never }), isCode('bad-input'));
});

/** conv -> relu -> reshape -> dense -> relu -> dense on a [1, 4, 4] input. */
function smallGraph() {
  const r = mulberry32(21);
  const g = new GraphBuilder(r, { convWeight: 0.4, bias: 0.3 });
  let h = g.add('relu', [g.conv('x', 1, 2)]);
  h = g.dense(g.add('reshape', [h], { shape: [32] }), 32, 6);
  h = g.dense(g.add('relu', [h]), 6, 3);
  return buildGraph({ name: 'x', shape: [1, 4, 4], batch: 'batch' }, g.nodes, h, 'test');
}

test('bounds of a graph: the sampled outputs lie within them, the activation counts add up, symbolic is refused', async () => {
  const g = smallGraph();
  const gBoxes = [makeBox(new Array(16).fill(-0.3), new Array(16).fill(0.3)), makeBox(new Array(16).fill(0.2), new Array(16).fill(0.6))];
  for (const method of ['interval', 'crown', 'alpha'] as const) {
    const r = await bounds(g, gBoxes, { method });
    assert.equal(r.kind, 'graph');
    assert.equal(r.boxes, 2);
    for (const [j, b] of gBoxes.entries()) {
      const xs = samplePoints(b, 400, mulberry32(40 + j));
      const ys = forwardGraph(g, xs, 400);
      for (let s = 0; s < 400; s++) {
        for (let i = 0; i < 3; i++) assert.ok(r.output.lo[i] <= ys[s * 3 + i] && ys[s * 3 + i] <= r.output.hi[i], `${method}: output ${i}`);
      }
    }
    assert.equal(r.activations.length, 2);
    for (const a of r.activations) assert.equal(a.inactive + a.active + a.unstable, a.neurons, `${method}: ${a.node}`);
  }
  await assert.rejects(bounds(g, gBoxes, { method: 'symbolic', name: 'g.onnx' }), (e: unknown) => isCode('bad-input')(e) && /g\.onnx is a graph network/.test((e as Error).message));
});

test('optimize: the maximum and minimum of an output and of a hidden combination enclose every sampled value; witnesses re-evaluate', async () => {
  const xs = [...boxes.entries()].map(([j, b]) => sample(b, 7 + j));
  const tr = xs.map((x) => forwardTrace(net, x, N));
  const cases = [
    { sense: 'max' as const, layer: 2, index: 0 },
    { sense: 'min' as const, layer: 2, index: 1 },
    { sense: 'max' as const, layer: 1, coefficients: [1, -2, 0, 0, 0.5, 0, 0, 1] },
  ];
  for (const o of cases) {
    const r = await optimize(net, boxes, o, { precision: 1e-4, relativePrecision: 0, timeoutMs: 30_000 });
    assert.equal(r.status, 'proved', JSON.stringify(o));
    const c = 'index' in o ? Array.from({ length: net.layers[o.layer].outSize }, (_, i) => (i === o.index ? 1 : 0)) : o.coefficients;
    const width = net.layers[o.layer].outSize;
    const objective = (pre: Float64Array, s: number): number => c.reduce((t, ci, i) => t + ci * pre[s * width + i], 0);
    const sign = o.sense === 'max' ? 1 : -1;
    for (const t of tr) for (let s = 0; s < N; s++) assert.ok(sign * objective(t.pre[o.layer], s) <= sign * r.bound + 1e-9, `${o.sense}: a sample beyond the bound`);
    const at = forwardTrace(net, r.witness, 1);
    assert.ok(Math.abs(objective(at.pre[o.layer], 0) - r.value) <= 1e-9, 'the witness re-evaluates to the value');
    assert.ok(sign * (r.bound - r.value) >= -1e-12 && Math.abs(r.bound - r.value) <= 1e-4 + 1e-12, 'value and bound enclose the optimum to the precision');
  }
  await assert.rejects(optimize(net, boxes, { sense: 'max', layer: 5, index: 0 }), (e: unknown) => isCode('bad-input')(e) && /layer 6 does not exist/.test((e as Error).message));
  await assert.rejects(optimize(net, boxes, { sense: 'min', layer: 2, coefficients: [1] }), (e: unknown) => isCode('bad-input')(e) && /1 coefficients for layer 3, which has 2 neurons/.test((e as Error).message));
  await assert.rejects(optimize(net, boxes, { sense: 'max', layer: 0, index: 10 }), (e: unknown) => isCode('bad-input')(e) && /neuron '10' of layer 1/.test((e as Error).message));
});

test('neuronPhase: every first-layer neuron\'s phase agrees with the samples, its witnesses re-evaluate', async () => {
  const pre = boxes.map((b, j) => forwardTrace(net, sample(b, 9 + j), N).pre[0]);
  const w = net.layers[0].outSize;
  for (let i = 0; i < w; i++) {
    const r = await neuronPhase(net, boxes, { layer: 0, index: i }, { timeoutMs: 20_000 });
    const zs = pre.flatMap((p) => Array.from({ length: N }, (_, s) => p[s * w + i]));
    if (r.phase === 'never') assert.ok(zs.every((z) => z <= 0), `${i}: never, but sampled active`);
    if (r.phase === 'always') assert.ok(zs.every((z) => z >= 0), `${i}: always, but sampled inactive`);
    if (r.phase === 'both') {
      assert.ok(forwardTrace(net, r.activeWitness!, 1).pre[0][i] > 0, `${i}: active witness`);
      assert.ok(forwardTrace(net, r.inactiveWitness!, 1).pre[0][i] < 0, `${i}: inactive witness`);
    }
    assert.notEqual(r.phase, 'unknown', `${i}: decided within the limit`);
  }
  await assert.rejects(neuronPhase(net, boxes, { layer: 2, index: 0 }), (e: unknown) => isCode('bad-input')(e) && /output layer/.test((e as Error).message));
});

test('census of a graph: proved phases hold at the samples', async () => {
  const g = smallGraph();
  const box = makeBox(new Array(16).fill(-0.2), new Array(16).fill(0.4));
  const c = await census(g, box, { timeoutMs: 20_000 });
  const relu = g.nodes.find((n) => n.op === 'relu' && n.inputs[0] !== undefined)!;
  const L = c.layers.find((l) => l.node === relu.name)!;
  assert.ok(L, 'a census layer per ReLU node');
  assert.equal(c.totals.never + c.totals.always + c.totals.both + c.totals.unknown, c.layers.reduce((s, l) => s + l.phases.length, 0));
  // the first ReLU's input is the conv's output: its values at samples from the graph cut at that node
  const cut = buildGraph({ name: 'x', shape: [1, 4, 4], batch: 'batch' }, g.nodes.slice(0, g.nodes.indexOf(relu)), relu.inputs[0], 'cut');
  const xs = samplePoints(box, 300, mulberry32(2));
  const zs = forwardGraph(cut, xs, 300);
  L.phases.forEach((p, i) => {
    for (let s = 0; s < 300; s++) {
      const z = zs[s * L.phases.length + i];
      if (p === 'never') assert.ok(z <= 0, `element ${i} never active but ${z}`);
      if (p === 'always') assert.ok(z >= 0, `element ${i} always active but ${z}`);
    }
  });
});

test('an abort rejects with AbortError: a signal already aborted, or aborted from the progress callback', async () => {
  const gone = AbortSignal.abort(new Error('stop'));
  const aborted = (e: unknown): boolean => isCode('aborted')(e) && (e as Error).name === 'AbortError';
  await assert.rejects(bounds(net, boxes, { signal: gone }), aborted);
  await assert.rejects(optimize(net, boxes, { sense: 'max', layer: 2, index: 0 }, { signal: gone }), aborted);
  await assert.rejects(neuronPhase(net, boxes, { layer: 0, index: 0 }, { signal: gone }), aborted);
  await assert.rejects(census(net, boxes, { signal: gone }), aborted);
  const ctl = new AbortController();
  let reports = 0;
  // a precision no search reaches: only the abort ends it
  const run = optimize(net, boxes, { sense: 'max', layer: 2, index: 0 }, {
    precision: 0, relativePrecision: 0, timeoutMs: 60_000, signal: ctl.signal,
    onProgress: () => {
      if (++reports === 3) ctl.abort(new Error('enough'));
    },
  });
  await assert.rejects(run, aborted);
  assert.equal(reports, 3, 'nothing reported after the abort');
});
