/**
 * Properties on graphs (src/verify/graph/bab.ts, property.ts): proveGraphLinear never proves what sampling refutes
 * and its counterexamples evaluate as violating (fast-check, random residual graphs); the branch and bound proves
 * on the demo CNN what CROWN alone cannot, within a work limit, and stops at that limit with unknown; split
 * decisions give bounds that hold at every sample satisfying them; decideGraphProperty's verdicts are re-checked by
 * sampling and by counterexample, and never contradict the chain verifier on chain graphs. Work limits, no clocks:
 * the deadlines are far beyond what the limits allow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mulberry32, gaussian } from '../src/model/rng.ts';
import { buildGraph } from '../src/model/graph/build.ts';
import type { Graph, GraphNode } from '../src/model/graph/types.ts';
import { forwardAll, forwardGraph } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import { graphToChain } from '../src/model/graph/chain.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { pytorchCnn } from '../src/demo/cnn.ts';
import { isCounterexample, type VnnProperty } from '../src/formats/vnnlib.ts';
import type { Box } from '../src/model/box.ts';
import { graphCrownBounds, graphSplitBounds } from '../src/bounds/graph/crown.ts';
import { lowerRows } from '../src/bounds/graph/backward.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';
import { decideProperty } from '../src/verify/property/property.ts';
import { proveGraphLinear } from '../src/verify/graph/bab.ts';
import { decideGraphProperty } from '../src/verify/graph/property.ts';
import { startPoints } from '../src/verify/graph/attack.ts';
import { loadMilpSolver } from '../src/verify/search/milp.ts';

await loadMilpSolver(); // what ReLU splitting leaves goes to MILP

const FAR = Infinity; // no deadline: the work limits stop the searches
const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i], 0);
type Rng = () => number;
const mat = (r: Rng, rows: number, cols: number, s: number) => ({ shape: [rows, cols], data: Float64Array.from({ length: rows * cols }, () => s * gaussian(r)) });
const vec = (r: Rng, n: number, s: number) => ({ shape: [n], data: Float64Array.from({ length: n }, () => s * gaussian(r)) });

/** x[4] -> dense 8 -> relu -> dense 8 -> relu (+ the first relu when residual) -> dense 3. */
function residualGraph(seed: number, residual: boolean): Graph {
  const r = mulberry32(seed);
  const d = (name: string, i: string, o: string, n: number, m: number): GraphNode => ({ name, op: 'dense', inputs: [i], output: o, attrs: {}, params: { weight: mat(r, m, n, 1 / Math.sqrt(n)), bias: vec(r, m, 0.3) } }) as GraphNode;
  const relu = (name: string, i: string, o: string): GraphNode => ({ name, op: 'relu', inputs: [i], output: o, attrs: {}, params: {} }) as GraphNode;
  const nodes: GraphNode[] = [d('d1', 'x', 'h1', 4, 8), relu('r1', 'h1', 'a1'), d('d2', 'a1', 'h2', 8, 8), relu('r2', 'h2', 'a2')];
  if (residual) nodes.push({ name: 'add', op: 'add', inputs: ['a2', 'a1'], output: 's', attrs: {}, params: {} } as GraphNode);
  nodes.push(d('d3', residual ? 's' : 'a2', 'y', 8, 3));
  return buildGraph({ name: 'x', shape: [4], batch: 1 }, nodes, 'y', 'test');
}

const ballBox = (c: Float64Array, eps: number): Box => ({ lo: c.map((v) => v - eps), hi: c.map((v) => v + eps) });

function sampledMin(g: Graph, box: Box, c: Float64Array, count: number, seed: number, tensor = g.output.name): number {
  let m = Infinity;
  for (const x of startPoints(box, count, seed)) m = Math.min(m, dot(c, forwardAll(g, x, 1).get(tensor)!));
  return m;
}

test('proveGraphLinear never proves what sampling refutes; its counterexamples violate (random residual graphs)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.boolean(), fc.double({ min: -1, max: 1, noNaN: true }), (seed, residual, t) => {
      const g = residualGraph(seed, residual);
      const r = mulberry32(seed + 1);
      const box = ballBox(Float64Array.from({ length: 4 }, () => gaussian(r)), 0.5);
      const c = Float64Array.from({ length: 3 }, () => gaussian(r));
      const mn = sampledMin(g, box, c, 300, seed);
      const rhs = mn + t * (0.2 + Math.abs(mn)); // around the sampled minimum, both sides
      const res = proveGraphLinear(g, box, { coeffs: c, rhs }, { deadline: FAR, maxNodes: 200 });
      if (res.status === 'proved') assert.ok(mn > rhs, `proved ${rhs} but a sample gives ${mn}`);
      if (res.status === 'falsified') {
        const x = res.x!;
        assert.ok(x.every((v, i) => v >= box.lo[i] && v <= box.hi[i]));
        assert.ok(dot(c, forwardGraph(g, x)) <= rhs);
      }
    }),
    { numRuns: 60, seed: 26 },
  );
});

test('on random residual graphs the search decides every question (ReLU splitting, MILP for what it leaves)', () => {
  let decided = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const g = residualGraph(seed, true);
    const box = ballBox(new Float64Array(4), 1);
    const c = Float64Array.from([1, -1, 0.5]);
    const mn = sampledMin(g, box, c, 500, seed);
    const res = proveGraphLinear(g, box, { coeffs: c, rhs: mn - 0.05 }, { deadline: FAR, maxNodes: 2000 });
    if (res.status !== 'unknown') decided++;
    // below the sampled minimum a counterexample is rare but possible: then it must evaluate as one
    if (res.status === 'falsified') assert.ok(dot(c, forwardGraph(g, res.x!)) <= mn - 0.05);
  }
  assert.equal(decided, 20);
});

const cnn = parseOnnxGraph(pytorchCnn(), 'pytorch.onnx');
const cnnPoint = (() => {
  const r = mulberry32(5);
  return Float64Array.from({ length: size(cnn.input.shape) }, () => gaussian(r));
})();

/** The demo CNN's top class against another, at a rhs halfway between CROWN's bound and the sampled minimum. */
function cnnQuestion(eps: number) {
  const box = ballBox(cnnPoint, eps);
  const y = forwardGraph(cnn, cnnPoint);
  const k = y.indexOf(Math.max(...y));
  const c = new Float64Array(10);
  c[k] = 1;
  c[k === 0 ? 1 : 0] = -1;
  const crown = lowerRows(cnn, graphCrownBounds(cnn, box), cnn.output.name, c, 1)[0];
  const mn = sampledMin(cnn, box, c, 300, 3);
  return { box, c, crown, mn, rhs: crown + 0.5 * (mn - crown) };
}

test('pytorchCnn: branch and bound proves what CROWN alone cannot, and a tiny work limit leaves it unknown', () => {
  const q = cnnQuestion(0.05);
  assert.ok(q.crown < q.rhs && q.rhs < q.mn);
  const res = proveGraphLinear(cnn, q.box, { coeffs: q.c, rhs: q.rhs }, { deadline: FAR, maxNodes: 3000 });
  assert.equal(res.status, 'proved', `${res.reason} after ${res.nodes} nodes, crown ${q.crown}, rhs ${q.rhs}, sampled ${q.mn}`);
  assert.ok(res.nodes > 1);
  for (const x of startPoints(q.box, 300, 77)) assert.ok(dot(q.c, forwardGraph(cnn, x)) > q.rhs);
  const cut = proveGraphLinear(cnn, q.box, { coeffs: q.c, rhs: q.rhs }, { deadline: FAR, maxNodes: 3, alpha: false });
  assert.equal(cut.status, 'unknown');
  assert.equal(cut.reason, 'box limit');
  assert.ok(cut.nodes <= 3);
});

test('graphSplitBounds: bounds under split decisions hold at every sample satisfying them', () => {
  const box = ballBox(cnnPoint, 0.1);
  const root = graphCrownBounds(cnn, box);
  const relu = cnn.nodes.find((n) => n.op === 'relu' && n.name.includes('relu_2'))!;
  const inp = root.get(relu.inputs[0])!;
  const unstable = [...inp.lo.keys()].filter((i) => inp.lo[i] < 0 && inp.hi[i] > 0);
  assert.ok(unstable.length >= 2, 'the demo has unstable ReLUs in its classifier');
  // decisions that a sample satisfies: its own signs at two unstable inputs
  const h0 = forwardAll(cnn, cnnPoint, 1).get(relu.inputs[0])!;
  const [i0, i1] = unstable;
  const d = new Int8Array(inp.lo.length);
  d[i0] = h0[i0] >= 0 ? 1 : -1;
  d[i1] = h0[i1] >= 0 ? 1 : -1;
  const holds = (h: Float64Array): boolean => h[i0] * d[i0] >= 0 && h[i1] * d[i1] >= 0;
  for (const reuse of [undefined, new Set(root.keys())]) {
    const b = graphSplitBounds(cnn, box, { parent: root, splits: new Map([[relu.name, d]]), reuse })!;
    const bi = b.get(relu.inputs[0])!;
    assert.ok(d[i0] > 0 ? bi.lo[i0] >= 0 : bi.hi[i0] <= 0);
    let hits = 0;
    let bad = 0;
    for (const x of [cnnPoint, ...startPoints(box, 100, 9)]) {
      const v = forwardAll(cnn, x, 1);
      if (!holds(v.get(relu.inputs[0])!)) continue;
      hits++;
      for (const [t, itv] of b) {
        const val = v.get(t)!;
        for (let i = 0; i < itv.lo.length; i++) if (!(val[i] >= itv.lo[i] && val[i] <= itv.hi[i])) bad++;
      }
    }
    assert.ok(hits > 0);
    assert.equal(bad, 0);
  }
});

/** Robustness of the top class at x0 within eps: unsafe when any other class scores at least as high. */
function robustness(g: Graph, x0: Float64Array, eps: number): VnnProperty {
  const y = forwardGraph(g, x0);
  const k = y.indexOf(Math.max(...y));
  const unsafe = [];
  for (let j = 0; j < y.length; j++) {
    if (j === k) continue;
    const c = new Float64Array(y.length);
    [c[k], c[j]] = [1, -1];
    unsafe.push([{ coeffs: c, rhs: 0 }]);
  }
  return { nInputs: x0.length, nOutputs: y.length, regions: [{ box: ballBox(x0, eps), unsafe }] };
}

test('decideGraphProperty on pytorchCnn: unsat holds at samples, sat counterexamples re-check', () => {
  const seen = new Set<string>();
  for (const eps of [0.005, 0.2]) {
    const p = robustness(cnn, cnnPoint, eps);
    const r = decideGraphProperty(cnn, p, { timeoutMs: FAR, maxNodes: 300 });
    seen.add(r.result);
    if (r.result === 'sat') assert.ok(isCounterexample(p, r.counterexample!.x, forwardGraph(cnn, Float64Array.from(r.counterexample!.x)), 0));
    if (r.result === 'unsat') for (const x of startPoints(p.regions[0].box, 200, 4)) assert.ok(!isCounterexample(p, x, forwardGraph(cnn, x), 0));
  }
  assert.deepEqual([...seen].sort(), ['sat', 'unsat']);
});

test('decideGraphProperty never contradicts the chain verifier on chain graphs', () => {
  const verdicts: string[] = [];
  for (let seed = 1; seed <= 8; seed++) {
    const g = residualGraph(seed, false);
    const x0 = Float64Array.from({ length: 4 }, (_, i) => Math.sin(seed + i));
    const p = robustness(g, x0, 0.15 * (1 + (seed % 3)));
    const a = decideGraphProperty(g, p, { timeoutMs: FAR, maxNodes: 500 });
    const b = decideProperty(graphToChain(g), p, { boundsFn: crownBounds, outputLinearLower, timeoutMs: 30000, maxBoxes: 20000 });
    verdicts.push(`${a.result}/${b.result}`);
    if (a.result !== 'unknown' && b.result !== 'unknown') assert.equal(a.result, b.result, `seed ${seed}`);
  }
  assert.ok(verdicts.some((v) => v === 'sat/sat') && verdicts.some((v) => v === 'unsat/unsat'), verdicts.join(' '));
});
