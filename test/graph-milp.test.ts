/**
 * The graph MILP (src/verify/graph/milp.ts): on random small graphs of every operator and on the demo CNNs, its
 * lower bound lies below every sampled value and (on graphs it encodes exactly) at or above the CROWN bound from
 * the same intermediate bounds, and its point evaluates to that bound (the encoding is the network); on a chain it
 * finds the chain MILP's optimum; fixed phases hold at its point and contradictory ones are infeasible; a model past
 * its limits is refused. Work limits (node counts), not clocks.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mulberry32, gaussian } from '../src/model/rng.ts';
import { buildGraph } from '../src/model/graph/build.ts';
import type { Graph, GraphNode, Shape, Tensor } from '../src/model/graph/types.ts';
import { forwardAll } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { graphToChain } from '../src/model/graph/chain.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { mixedCnn, pytorchCnn } from '../src/demo/cnn.ts';
import type { Box } from '../src/model/box.ts';
import { graphCrownBounds } from '../src/bounds/graph/crown.ts';
import { graphObjectiveBound } from '../src/bounds/graph/objective.ts';
import type { TensorBounds } from '../src/bounds/graph/types.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { loadMilpSolver, milpLinearSign } from '../src/verify/search/milp.ts';
import { graphMilp, type GraphMilpOptions } from '../src/verify/graph/milp.ts';
import { HAVE_SHARED, SKIP_SHARED, sharedPath } from './helpers/shared.ts';
import { GraphBuilder as G, tensor, type Rng } from './helpers/graph-build.ts';

before(async () => {
  await loadMilpSolver();
});

const IN: Shape = [2, 4, 4];
const OPS = ['relu', 'leakyrelu', 'prelu', 'maxpool', 'averagepool', 'globalaveragepool', 'add', 'sub', 'concat', 'pad', 'transpose', 'batchnorm', 'affine', 'sigmoid', 'tanh', 'clip', 'mul'] as const;
const RELAXED = new Set(['sigmoid', 'tanh', 'clip', 'mul']);

/** conv -> (the operator's block) -> relu -> dense: a small graph exercising `op`, seeded. */
function graphFor(op: (typeof OPS)[number], seed: number): Graph {
  const r = mulberry32(seed);
  const g = new G(r);
  let h = g.conv('x', 2, 2);
  let shape: number[] = [2, 4, 4];
  switch (op) {
    case 'relu': case 'sigmoid': case 'tanh': h = g.add(op, [h]); break;
    case 'leakyrelu': h = g.add(op, [h], { alpha: 0.1 + 0.5 * r() }); break;
    case 'prelu': h = g.add(op, [h], {}, { slope: { shape: [2, 1, 1], data: Float64Array.from([r() * 0.5, 1.5 - r()]) } }); break;
    case 'clip': h = g.add(op, [h], { min: -0.5 * r(), max: 0.2 + r() }); break;
    case 'maxpool': h = g.add(op, [g.add('relu', [h])], { kernel: [2, 2], strides: [2, 1], pads: [0, 1, 1, 0], dilations: [1, 1], ceil: false }); shape = [2, 2, 4]; break;
    case 'averagepool': h = g.add(op, [g.add('relu', [h])], { kernel: [3, 2], strides: [2, 1], pads: [1, 1, 1, 0], countIncludePad: r() < 0.5 }); shape = [2, 2, 4]; break;
    case 'globalaveragepool': h = g.add(op, [g.add('relu', [h])]); shape = [2, 1, 1]; break;
    case 'add': case 'sub': case 'mul': h = g.add(op, [g.add('relu', [h]), g.conv('x', 2, 2)]); break;
    case 'concat': h = g.add(op, [g.add('relu', [h]), g.conv('x', 2, 1)], { axis: 0 }); shape = [3, 4, 4]; break;
    case 'pad': h = g.add(op, [g.add('relu', [h])], { pads: [0, 1, 0, 0, 0, 1], value: 0.3 }); shape = [2, 5, 5]; break;
    case 'transpose': h = g.add(op, [g.add('relu', [h])], { perm: [1, 2, 0] }); shape = [4, 4, 2]; break;
    case 'batchnorm': h = g.add(op, [g.add('relu', [h])], {}, { scale: tensor(r, [2]), shift: tensor(r, [2]) }); break;
    case 'affine': h = g.add(op, [g.add('relu', [h])], {}, { scale: tensor(r, [2, 1, 4]), shift: tensor(r, [1, 4, 1]) }); break;
  }
  h = g.add('relu', [h]);
  h = g.add('reshape', [h], { shape: [size(shape)] });
  h = g.dense(h, size(shape), 3);
  return g.build(IN, h);
}

function ballBox(n: number, r: Rng, eps: number): Box {
  const c = Float64Array.from({ length: n }, () => gaussian(r));
  return { lo: c.map((v) => v - eps), hi: c.map((v) => v + eps) };
}

function samples(box: Box, count: number, r: Rng): Float64Array[] {
  return Array.from({ length: count }, (_, s) => Float64Array.from(box.lo, (l, i) => (s % 4 === 0 ? (r() < 0.5 ? l : box.hi[i]) : l + (box.hi[i] - l) * r())));
}

const dot = (c: Float64Array, v: Float64Array): number => c.reduce((s, w, i) => s + w * v[i], 0);

/** Checks graphMilp against sampling, CROWN (exact graphs) and its own point; returns the result. */
function checkMilp(g: Graph, box: Box, b: TensorBounds, tensor: string, c: Float64Array, r: Rng, opts: Partial<GraphMilpOptions> = {}) {
  const res = graphMilp(g, box, b, { tensor, coeffs: c }, { timeLimitS: 60, maxNodes: 5000, gap: 1e-9, ...opts });
  assert.notEqual(res.status, 'infeasible');
  for (const x of samples(box, 100, r)) {
    const v = dot(c, forwardAll(g, x, 1).get(tensor)!);
    assert.ok(res.lower <= v, `MILP lower ${res.lower} above the sampled value ${v}`);
  }
  if (res.status !== 'optimal') return res;
  assert.ok(res.x && res.value !== undefined);
  assert.ok(res.lower <= res.value!, `lower ${res.lower} above its own point's value ${res.value}`);
  if (res.exact) {
    const crown = graphObjectiveBound(g, box, { node: tensor, coeffs: c }, { bounds: b });
    const tol = res.slack + 1e-9 * (1 + Math.abs(crown)); // the MILP's widening
    assert.ok(res.lower >= crown - tol, `MILP lower ${res.lower} below CROWN's ${crown}`);
    assert.ok(res.value! - res.lower <= 1e-4 * (1 + Math.abs(res.value!)), `the point's value ${res.value} is not the bound ${res.lower}: the encoding is not the network`);
  }
  return res;
}

test('graph MILP on random graphs of every operator: below every sample, above CROWN, its point attains it', () => {
  const seen = new Set<string>();
  fc.assert(
    fc.property(fc.constantFrom(...OPS), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 2 }), (op, seed, which) => {
      const g = graphFor(op, seed);
      const r = mulberry32(seed + 7);
      const box = ballBox(size(IN), r, 0.15);
      const b = graphCrownBounds(g, box);
      const c = Float64Array.from({ length: 3 }, (_, i) => (i === which ? 1 : 0.3 * gaussian(r)));
      const res = checkMilp(g, box, b, g.output.name, c, r);
      assert.equal(res.exact, !RELAXED.has(op), `${op}: exact flag`);
      assert.equal(res.status, 'optimal', `${op}: ${res.reason}`);
      if (res.size.binaries > 0) seen.add(op);
    }),
    { numRuns: 25, seed: 26 },
  );
  assert.ok(seen.size >= 5 && seen.has('maxpool'), `binaries were exercised: ${[...seen]}`);
});

test('graph MILP on the demo CNNs (an output margin of pytorchCnn, a first-layer neuron of both)', () => {
  for (const [name, bytes] of [['pytorchCnn', pytorchCnn()], ['mixedCnn', mixedCnn({ head: 'none' })]] as const) {
    const g = parseOnnxGraph(bytes, name);
    const r = mulberry32(3);
    const n0 = size(g.input.shape);
    const ctr = Float64Array.from({ length: n0 }, () => r());
    const eps = 0.001;
    const box = { lo: ctr.map((v) => v - eps), hi: ctr.map((v) => v + eps) };
    const b = graphCrownBounds(g, box);
    // a neuron after the first activation: few tensors needed, so few columns
    const at = g.nodes.findIndex((n) => n.op === 'relu' || n.op === 'leakyrelu');
    const next = g.nodes.slice(at).find((n) => n.op === 'conv')!;
    const zc = new Float64Array(size(g.shapes.get(next.output)!));
    [zc[5], zc[40]] = [-1, 0.5];
    const mid = checkMilp(g, box, b, next.output, zc, r, { maxNodes: 300 });
    assert.equal(mid.status, 'optimal');
    assert.equal(mid.exact, true);
    if (name !== 'pytorchCnn') continue; // the output MILP of mixedCnn (relaxed) takes tens of seconds
    const out = new Float64Array(10);
    [out[0], out[4]] = [1, -1];
    const res = checkMilp(g, box, b, g.output.name, out, r, { maxNodes: 300 });
    assert.equal(res.exact, true);
    assert.ok(mid.size.columns < res.size.columns, 'only the tensors the objective needs get columns');
  }
});

test('graph MILP equals the chain MILP on a chain graph', () => {
  for (const seed of [1, 2, 3, 4]) {
    const r = mulberry32(seed);
    const g0 = new G(r);
    let h = g0.add('relu', [g0.dense('x', 4, 8)]);
    h = g0.add('relu', [g0.dense(h, 8, 6)]);
    const g = g0.build([4], g0.dense(h, 6, 3));
    const net = graphToChain(g);
    const box = ballBox(4, r, 0.8);
    const c = Float64Array.from({ length: 3 }, () => gaussian(r));
    const res = checkMilp(g, box, graphCrownBounds(g, box), g.output.name, c, r);
    assert.equal(res.status, 'optimal');
    assert.ok(res.size.binaries > 0, 'unstable ReLUs exercised');
    // the chain MILP maximises -c . y + d: with d just above our minimum it must find a point, at the same minimum
    const chain = milpLinearSign(net, box, crownBounds(net, box), net.layers.length - 1, c.map((v) => -v), res.value! + 1e-3, 60_000);
    assert.equal(chain.status, 'refuted');
    const v = dot(c, forwardAll(g, chain.witness!, 1).get(g.output.name)!);
    assert.ok(Math.abs(v - res.value!) <= 1e-6, `chain optimum ${v}, graph optimum ${res.value}`);
    assert.ok(res.lower <= v);
  }
});

/** x[1] -> [x - 0.1, -x - 0.1] -> relu -> sum: both ReLUs unstable on [-1, 1], never both active. */
function twoRelus(): Graph {
  const w: Tensor = { shape: [2, 1], data: Float64Array.of(1, -1) };
  const nodes = [
    { name: 'd1', op: 'dense', inputs: ['x'], output: 'z', attrs: {}, params: { weight: w, bias: { shape: [2], data: Float64Array.of(-0.1, -0.1) } } },
    { name: 'act', op: 'relu', inputs: ['z'], output: 'a', attrs: {}, params: {} },
    { name: 'd2', op: 'dense', inputs: ['a'], output: 'y', attrs: {}, params: { weight: { shape: [1, 2], data: Float64Array.of(1, 1) }, bias: { shape: [1], data: Float64Array.of(0) } } },
  ] as GraphNode[];
  return buildGraph({ name: 'x', shape: [1], batch: 1 }, nodes, 'y', 'test');
}

test('fixed ReLU phases: respected at the point, bounds only rise, contradictions infeasible', () => {
  const g = twoRelus();
  const box = { lo: Float64Array.of(-1), hi: Float64Array.of(1) };
  const b = graphCrownBounds(g, box);
  const c = Float64Array.of(1);
  const free = graphMilp(g, box, b, { tensor: 'y', coeffs: c }, { timeLimitS: 10 });
  assert.equal(free.status, 'optimal');
  assert.ok(Math.abs(free.lower) < 1e-4, `min of relu(x-0.1)+relu(-x-0.1) is 0, got ${free.lower}`);
  const fix = (a: number, bb: number) => graphMilp(g, box, b, { tensor: 'y', coeffs: c }, { timeLimitS: 10, fixed: new Map([['act', Int8Array.of(a, bb)]]) });
  assert.equal(fix(1, 1).status, 'infeasible', 'x >= 0.1 and x <= -0.1 together');
  const act = fix(1, -1); // x >= 0.1: y = x - 0.1, min 0 at x = 0.1
  assert.equal(act.status, 'optimal');
  assert.ok(act.x![0] >= 0.1 - 1e-6 && act.lower >= -1e-4 && act.lower <= 1e-9);
  const maxAct = graphMilp(g, box, b, { tensor: 'y', coeffs: Float64Array.of(-1) }, { timeLimitS: 10, fixed: new Map([['act', Int8Array.of(-1, 0)]]) });
  assert.equal(maxAct.status, 'optimal'); // x <= 0.1: max of y is 0.9 at x = -1
  assert.ok(Math.abs(maxAct.lower + 0.9) < 1e-4 && maxAct.x![0] <= 0.1 + 1e-6);
  // a phase contradicting stable bounds: z_0 = x - 0.1 on [0.2, 1] is always active
  const hiBox = { lo: Float64Array.of(0.2), hi: Float64Array.of(1) };
  const r = graphMilp(g, hiBox, graphCrownBounds(g, hiBox), { tensor: 'y', coeffs: c }, { timeLimitS: 10, fixed: new Map([['act', Int8Array.of(-1, 0)]]) });
  assert.equal(r.status, 'infeasible');
  assert.equal(r.lower, Infinity);
});

test('fixed phases of a sampled point keep that point feasible and hold at the solution', () => {
  const g = graphFor('maxpool', 11);
  const r = mulberry32(12);
  const box = ballBox(size(IN), r, 0.3);
  const b = graphCrownBounds(g, box);
  const relus = g.nodes.filter((n) => n.op === 'relu');
  const c = Float64Array.of(1, -1, 0.5);
  for (const x of samples(box, 6, r)) {
    const vals = forwardAll(g, x, 1);
    const fixed = new Map(relus.map((n) => [n.name, Int8Array.from(vals.get(n.inputs[0])!, (z) => (z > 0 ? 1 : -1))]));
    const res = graphMilp(g, box, b, { tensor: g.output.name, coeffs: c }, { timeLimitS: 60, maxNodes: 5000, fixed });
    assert.equal(res.status, 'optimal');
    assert.ok(res.lower <= dot(c, vals.get(g.output.name)!), 'the sampled point has these phases');
    const at = forwardAll(g, res.x!, 1);
    for (const n of relus) {
      const z = at.get(n.inputs[0])!;
      fixed.get(n.name)!.forEach((f, i) => assert.ok(f * z[i] >= -1e-5, `phase ${f} of ${n.name}[${i}] broken: ${z[i]}`));
    }
  }
});

test('models past the limits are refused before solving', () => {
  const g = graphFor('relu', 5);
  const box = ballBox(size(IN), mulberry32(6), 0.5);
  const b = graphCrownBounds(g, box);
  const c = Float64Array.of(1, 0, 0);
  const run = (limits: GraphMilpOptions['limits']) => graphMilp(g, box, b, { tensor: g.output.name, coeffs: c }, { timeLimitS: 10, limits });
  const ok = run(undefined);
  assert.equal(ok.status, 'optimal');
  assert.ok(ok.size.binaries > 0);
  for (const [limits, word] of [[{ maxBinaries: ok.size.binaries - 1 }, 'binaries'], [{ maxNonzeros: 10 }, 'non-zeros'], [{ maxRows: 5 }, 'rows'], [{ maxScan: 100 }, 'scan']] as const) {
    const r = run(limits);
    assert.equal(r.status, 'limit');
    assert.equal(r.lower, -Infinity);
    assert.match(r.reason!, new RegExp(word));
  }
  // the node limit: a work limit, still a sound (dual) bound
  const cut = graphMilp(g, box, b, { tensor: g.output.name, coeffs: c }, { timeLimitS: 10, maxNodes: 1, cutoff: ok.lower - 1 });
  assert.ok(cut.status === 'infeasible' && cut.lower > ok.lower - 1 && cut.lower <= ok.lower + 1e-4, `cutoff below the minimum: ${cut.status} ${cut.lower}`);
});

test('graph MILP on a VNN-COMP oval21 ball: within its limits and sound', { skip: SKIP_SHARED }, async () => {
  if (!HAVE_SHARED) return;
  const { readOnnxGraph } = await import('../src/formats/onnx-graph/read.ts');
  const { readVnnlib } = await import('../src/formats/vnnlib.ts');
  const g = readOnnxGraph(sharedPath('cnn', 'oval21', 'nets', 'cifar_base_kw.onnx'));
  const p = readVnnlib(sharedPath('cnn', 'oval21', 'vnnlib', 'cifar_base_kw-img4549-eps0.00392156862745098.vnnlib'));
  const box = p.regions[0].box;
  const b = graphCrownBounds(g, box);
  // the constraint CROWN leaves open (a margin below 0), with the property's threshold as the cutoff
  const scored = p.regions[0].unsafe.map(([con]) => ({ con, crown: graphObjectiveBound(g, box, { node: g.output.name, coeffs: con.coeffs }, { bounds: b }) }));
  const { con, crown } = scored.reduce((a, s) => (s.crown - s.con.rhs < a.crown - a.con.rhs ? s : a));
  const res = graphMilp(g, box, b, { tensor: g.output.name, coeffs: con.coeffs }, { timeLimitS: 40, cutoff: con.rhs });
  assert.ok(res.size.columns > 3072 && res.size.nonzeros > 100_000, JSON.stringify(res.size));
  assert.ok(res.lower >= crown - res.slack - 1e-9 * (1 + Math.abs(crown)) || res.lower === -Infinity, `${res.lower} below CROWN's ${crown}`);
  if (res.value !== undefined) assert.ok(res.lower <= res.value);
});
