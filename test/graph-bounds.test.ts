/**
 * Sound bounds on graphs (src/bounds/graph): for every operator, on random small graphs and boxes, every sampled
 * point's value of every tensor lies within the interval and the CROWN bounds; the objective bound lies below the
 * objective at every sample, optimised slopes never loosen it; CROWN is no looser than intervals (strictly tighter
 * on a deep CNN), matches the chain CROWN on chains, and holds on the demo CNNs and the VNN-COMP CNNs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mulberry32, gaussian } from '../src/model/rng.ts';
import { buildGraph } from '../src/model/graph/build.ts';
import type { Graph, Shape } from '../src/model/graph/types.ts';
import { forwardAll } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { graphToChain } from '../src/model/graph/chain.ts';
import { parseOnnxGraph, readOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { mixedCnn, pytorchCnn } from '../src/demo/cnn.ts';
import { backwardBound, crownBounds } from '../src/bounds/backward.ts';
import type { Box } from '../src/model/box.ts';
import { graphIntervalBounds } from '../src/bounds/graph/interval.ts';
import { graphCrownBounds } from '../src/bounds/graph/crown.ts';
import { graphObjectiveBound } from '../src/bounds/graph/objective.ts';
import { lowerRows } from '../src/bounds/graph/backward.ts';
import { BoundRefused, type TensorBounds } from '../src/bounds/graph/types.ts';
import { RULES } from '../src/bounds/graph/registry.ts';
import { OPS } from '../src/model/graph/registry.ts';
import { HAVE_SHARED, SKIP_SHARED, sharedPath } from './helpers/shared.ts';
import { GraphBuilder as G, tensor, type Rng } from './helpers/graph-build.ts';

// ---------- random graphs, one per operator ----------

const IN: Shape = [2, 5, 5];
const act = (op: string, r: Rng): [string, object, object] => {
  if (op === 'leakyrelu') return [op, { alpha: 0.1 + 0.5 * r() }, {}];
  if (op === 'prelu') return [op, {}, { slope: { shape: [2, 1, 1], data: Float64Array.from([r() * 0.5, -0.3 + r()]) } }];
  if (op === 'clip') return [op, { min: -0.5 * r(), max: 0.2 + r() }, {}];
  return [op, {}, {}];
};

/** A small graph exercising `op`, seeded. */
function graphFor(op: string, seed: number): Graph {
  const r = mulberry32(seed);
  const g = new G(r);
  let h = g.conv('x', 2, 2);
  switch (op) {
    case 'conv': {
      const s = 1 + Math.floor(r() * 2);
      h = g.add('relu', [h]);
      h = g.conv(h, 2, 4, 2 + Math.floor(r() * 2), { strides: [s, s], pads: [1, 0, 0, 1], dilations: [1 + Math.floor(r() * 2), 1], group: r() < 0.5 ? 2 : 1 });
      h = g.add('relu', [h]);
      break;
    }
    case 'relu': case 'leakyrelu': case 'prelu': case 'clip': case 'sigmoid': case 'tanh': {
      const [o, a, p] = act(op, r);
      h = g.add(o, [h], a, p);
      h = g.conv(h, 2, 2);
      h = g.add(o, [h], a, p);
      break;
    }
    case 'affine':
      h = g.add('relu', [g.add('affine', [h], {}, { scale: tensor(r, [2, 1, 5]), shift: tensor(r, [1, 5, 1]) })]);
      break;
    case 'batchnorm':
      h = g.add('relu', [g.add('batchnorm', [g.add('relu', [h])], {}, { scale: tensor(r, [2]), shift: tensor(r, [2]) })]);
      break;
    case 'add': case 'sub': case 'mul': {
      const b = g.conv('x', 2, 2);
      const other = r() < 0.5 ? b : g.add('globalaveragepool', [g.add('tanh', [b])]); // broadcast [2,1,1]
      h = g.add('relu', [g.add(op, [r() < 0.3 ? g.add('relu', [h]) : h, other])]);
      break;
    }
    case 'div': {
      const d = g.add('affine', [g.add('sigmoid', [g.conv('x', 2, 2)])], {}, { scale: { shape: [1, 1, 1], data: Float64Array.of(1) }, shift: { shape: [1, 1, 1], data: Float64Array.of(0.5) } });
      h = g.add('relu', [g.add('div', [r() < 0.3 ? g.add('relu', [h]) : h, d])]); // numerators of both signs
      break;
    }
    case 'maxpool':
      h = g.add('maxpool', [g.add('relu', [h])], { kernel: [2, 2], strides: [1 + Math.floor(r() * 2), 2], pads: [0, 1, 1, 0], dilations: [1, 1], ceil: r() < 0.5 });
      break;
    case 'averagepool':
      h = g.add('averagepool', [g.add('relu', [h])], { kernel: [3, 2], strides: [2, 1], pads: [1, 1, 1, 0], countIncludePad: r() < 0.5 });
      break;
    case 'globalaveragepool':
      h = g.add('globalaveragepool', [g.add('relu', [h])]);
      break;
    case 'concat':
      h = g.add('concat', [g.add('relu', [h]), g.add('relu', [g.conv('x', 2, 1)])], { axis: 0 });
      h = g.add('relu', [g.conv(h, 3, 2)]);
      break;
    case 'reshape':
      h = g.add('reshape', [g.add('relu', [h])], { shape: [10, 5] });
      break;
    case 'transpose':
      h = g.add('relu', [g.add('transpose', [g.add('relu', [h])], { perm: [1, 2, 0] })]);
      break;
    case 'pad':
      h = g.add('relu', [g.conv(g.add('pad', [g.add('relu', [h])], { pads: [0, 1, 0, 1, 2, 1], value: r() - 0.5 }), 3, 2)]);
      break;
    case 'softmax': case 'logsoftmax':
      break;
    case 'dense':
      break;
    default:
      throw new Error(`no test graph for ${op}`);
  }
  // half the graphs end at the operator's tensor itself: CROWN then bounds it directly (every neuron of the output)
  if (op !== 'softmax' && op !== 'logsoftmax' && op !== 'dense' && r() < 0.5) return g.build(IN, h);
  const n = size(shapeOf(g, h));
  h = g.dense(g.add('reshape', [h], { shape: [n] }), n, 4);
  h = g.dense(g.add('relu', [h]), 4, 3);
  if (op === 'softmax' || op === 'logsoftmax') h = g.add(op, [h], { axis: 0, toEnd: false });
  return g.build(IN, h);
}

function shapeOf(g: G, t: string): Shape {
  return buildGraph({ name: 'x', shape: IN, batch: 1 }, g.nodes, t, 'test').shapes.get(t)!;
}

// ---------- checks ----------

function ball(r: Rng, n: number, eps: number, lo = -1, hi = 1): Box {
  const c = Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
  return { lo: c.map((v) => v - eps), hi: c.map((v) => v + eps) };
}

/** `count` points of the box: its corners' mix and uniform points (batch evaluation). */
function samples(r: Rng, box: Box, count: number): Float64Array {
  const n = box.lo.length;
  const x = new Float64Array(count * n);
  for (let s = 0; s < count; s++) {
    const corner = s % 3 === 0;
    for (let i = 0; i < n; i++) x[s * n + i] = corner ? (r() < 0.5 ? box.lo[i] : box.hi[i]) : box.lo[i] + (box.hi[i] - box.lo[i]) * r();
  }
  return x;
}

function assertContains(g: Graph, b: TensorBounds, x: Float64Array, count: number, what: string): void {
  const vals = forwardAll(g, x, count);
  for (const [t, v] of vals) {
    const it = b.get(t);
    assert.ok(it, `${what}: no bounds for tensor ${t}`);
    const n = it.lo.length;
    for (let e = 0; e < v.length; e++) {
      const i = e % n;
      if (!(v[e] >= it.lo[i] && v[e] <= it.hi[i])) assert.fail(`${what}: tensor ${t}[${i}] = ${v[e]} outside [${it.lo[i]}, ${it.hi[i]}]`);
    }
  }
}

function assertNoLooser(tight: TensorBounds, loose: TensorBounds, what: string): void {
  for (const [t, l] of loose) {
    const c = tight.get(t)!;
    for (let i = 0; i < l.lo.length; i++) {
      const tol = 1e-9 * (1 + Math.abs(l.lo[i]) + Math.abs(l.hi[i]));
      assert.ok(c.lo[i] >= l.lo[i] - tol && c.hi[i] <= l.hi[i] + tol, `${what}: ${t}[${i}] [${c.lo[i]}, ${c.hi[i]}] looser than [${l.lo[i]}, ${l.hi[i]}]`);
    }
  }
}

const width = (b: TensorBounds, t: string): number => b.get(t)!.hi.reduce((s, h, i) => s + h - b.get(t)!.lo[i], 0);

/** Every check on one graph and box; returns the bounds. */
function checkAll(g: Graph, box: Box, seed: number, count = 60): { ib: TensorBounds; cb: TensorBounds } {
  const r = mulberry32(seed);
  const ib = graphIntervalBounds(g, box);
  const cb = graphCrownBounds(g, box);
  const x = samples(r, box, count);
  assertContains(g, ib, x, count, 'interval');
  assertContains(g, cb, x, count, 'CROWN');
  assertNoLooser(cb, ib, 'CROWN vs interval');
  const out = g.output.name;
  const m = size(g.output.shape);
  const coeffs = Float64Array.from({ length: m }, () => gaussian(r));
  const plain = graphObjectiveBound(g, box, { node: out, coeffs }, { bounds: cb });
  const alpha = graphObjectiveBound(g, box, { node: out, coeffs }, { bounds: cb, alpha: { iterations: 6 } });
  assert.ok(alpha >= plain - 1e-12 * (1 + Math.abs(plain)), `alpha ${alpha} looser than CROWN ${plain}`);
  const y = forwardAll(g, x, count).get(out)!;
  for (let s = 0; s < count; s++) {
    let v = 0;
    for (let i = 0; i < m; i++) v += coeffs[i] * y[s * m + i];
    assert.ok(alpha <= v && plain <= v, `objective bound ${plain} / ${alpha} above the sample's value ${v}`);
  }
  return { ib, cb };
}

// ---------- tests ----------

test('every operator has a bound rule (the registries list the same operators)', () => {
  assert.deepEqual(Object.keys(RULES).sort(), Object.keys(OPS).sort());
});

for (const op of Object.keys(OPS)) {
  test(`${op}: samples lie within interval and CROWN bounds of every tensor; objective bound below every sample`, () => {
    fc.assert(
      fc.property(fc.nat(), fc.double({ min: 0.01, max: 1, noNaN: true }), (seed, eps) => {
        const g = graphFor(op, seed);
        const box = ball(mulberry32(seed + 7), size(g.input.shape), eps);
        checkAll(g, box, seed + 11, 40);
      }),
      { numRuns: 12 },
    );
  });
}

test('div refuses a divisor whose interval contains 0, in one line naming the node', () => {
  const g = new G(mulberry32(1));
  const a = g.conv('x', 2, 2);
  const gr = g.build(IN, g.add('div', [a, g.conv('x', 2, 2)]));
  const box = ball(mulberry32(2), size(IN), 0.5);
  assert.throws(() => graphIntervalBounds(gr, box), (e: Error) => e instanceof BoundRefused && /node 'n2' \(div\).*contains 0/.test(e.message) && !e.message.includes('\n'));
});

test('CROWN is strictly tighter than intervals on a deep random CNN', () => {
  const g = new G(mulberry32(5));
  let h = 'x';
  for (let l = 0; l < 5; l++) h = g.add('relu', [g.conv(h, l === 0 ? 2 : 3, 3)]);
  h = g.dense(g.add('reshape', [h], { shape: [75] }), 75, 5);
  const gr = g.build(IN, h);
  const box = ball(mulberry32(6), size(IN), 0.1);
  const { ib, cb } = checkAll(gr, box, 7);
  assert.ok(width(cb, h) < 0.5 * width(ib, h), `CROWN width ${width(cb, h)} vs interval ${width(ib, h)}`);
});

/** A chain graph dense -> relu -> ... -> dense of random widths; returns the graph and its dense outputs. */
function chainGraph(seed: number, depth: number): { gr: Graph; pre: string[] } {
  const g = new G(mulberry32(seed));
  const widths = [4, ...Array.from({ length: depth }, () => 6), 3];
  let h = 'x';
  const pre: string[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    h = g.dense(h, widths[l], widths[l + 1]);
    pre.push(h);
    if (l + 2 < widths.length) h = g.add('relu', [h]);
  }
  return { gr: g.build([4], h), pre };
}

test('on chain graphs, each backward bound equals backward.ts backwardBound given the same intermediate bounds', () => {
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 2, max: 4 }), (seed, depth) => {
      const { gr, pre } = chainGraph(seed, depth);
      const box = ball(mulberry32(seed + 1), 4, 0.5);
      const net = graphToChain(gr);
      const theirs = crownBounds(net, box);
      // the chain's pre-activation bounds as the graph's (the interval pass's magnitudes stay valid: wider inputs)
      const b = graphIntervalBounds(gr, box);
      gr.nodes.forEach((n) => {
        const l = pre.indexOf(n.output);
        const src = l >= 0 ? theirs[l] : { lo: b.get(n.inputs[0])!.lo.map((v) => Math.max(v, 0)), hi: b.get(n.inputs[0])!.hi.map((v) => Math.max(v, 0)) };
        b.set(n.output, { lo: Float64Array.from(src.lo), hi: Float64Array.from(src.hi), mag: b.get(n.output)!.mag });
      });
      pre.forEach((t, k) => {
        const m = theirs[k].lo.length;
        for (let i = 0; i < m; i++) {
          const e = new Float64Array(m);
          e[i] = 1;
          const ours = lowerRows(gr, b, t, e, 1)[0];
          const ref = backwardBound(net, box, theirs, k, e, 0, 'lower').lo;
          assert.ok(Math.abs(ours - ref) <= 1e-6 * (1 + Math.abs(ref)), `layer ${k} neuron ${i}: ${ours} vs chain ${ref}`);
        }
      });
    }),
    { numRuns: 40 },
  );
});

test('on chain graphs, the full CROWN pass is no looser than the chain CROWN on the output, summed over a set of chains', () => {
  let ours = 0;
  let theirs = 0;
  for (let seed = 0; seed < 30; seed++) {
    const { gr, pre } = chainGraph(seed, 3);
    const box = ball(mulberry32(seed + 1), 4, 0.5);
    ours += width(graphCrownBounds(gr, box), pre[pre.length - 1]);
    const c = crownBounds(graphToChain(gr), box);
    theirs += c[c.length - 1].hi.reduce((s, h, i) => s + h - c[c.length - 1].lo[i], 0);
  }
  assert.ok(ours <= theirs * (1 + 1e-6), `graph CROWN output width ${ours} vs chain ${theirs}`);
});

test('the demo CNNs (pytorchCnn, mixedCnn): bounds contain 200 samples of a ball', () => {
  for (const [name, g] of [['pytorchCnn', parseOnnxGraph(pytorchCnn(), 'p.onnx')], ['mixedCnn', parseOnnxGraph(mixedCnn(), 'm.onnx')]] as const) {
    const box = ball(mulberry32(3), size(g.input.shape), 0.05, 0, 1);
    const { ib, cb } = checkAll(g, box, 4, 200);
    assert.ok(width(cb, g.output.name) <= width(ib, g.output.name), name);
  }
});

const NETS = ['verivital/Convnet_avgpool.onnx', 'verivital/Convnet_maxpool.onnx', 'oval21/nets/cifar_base_kw.onnx', 'cifar10_resnet/onnx/resnet_2b.onnx', 'marabou-cifar10/nets/cifar10_small.onnx'];

test('one network of each ../shared/nets/cnn benchmark, eps 1/255 around a random image: bounds contain 200 samples', { skip: SKIP_SHARED }, () => {
  if (!HAVE_SHARED) return;
  for (const f of NETS) {
    const g = readOnnxGraph(sharedPath('cnn', f));
    const box = ball(mulberry32(9), size(g.input.shape), 1 / 255, 0, 1);
    const r = mulberry32(10);
    const cb = graphCrownBounds(g, box);
    const x = samples(r, box, 200);
    assertContains(g, cb, x, 200, f);
    assertContains(g, graphIntervalBounds(g, box), x, 200, f);
  }
});
