/**
 * Gradients and projected descent on graphs (src/verify/graph/gradient.ts, attack.ts): the reverse pass against
 * central finite differences on the demo CNNs (every operator the reader takes, the smooth ones included), and the
 * descent's minimum against a sampled minimum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32, gaussian } from '../src/model/rng.ts';
import { parseOnnxGraph } from '../src/formats/onnx-graph/read.ts';
import { mixedCnn, pytorchCnn } from '../src/demo/cnn.ts';
import { forwardGraph } from '../src/model/graph/forward.ts';
import { size } from '../src/model/graph/shape.ts';
import type { Graph } from '../src/model/graph/types.ts';
import { gradientAt } from '../src/verify/graph/gradient.ts';
import { descend, linearObjective, startPoints } from '../src/verify/graph/attack.ts';

const graphs: [string, Graph][] = [
  ['pytorchCnn', parseOnnxGraph(pytorchCnn(), 'pytorch.onnx')],
  ['mixedCnn', parseOnnxGraph(mixedCnn(), 'mixed.onnx')],
  ['mixedCnn logits', parseOnnxGraph(mixedCnn({ head: 'none' }), 'mixed.onnx')],
  ['mixedCnn logsoftmax', parseOnnxGraph(mixedCnn({ head: 'logsoftmax' }), 'mixed.onnx')],
];

const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i], 0);

for (const [name, g] of graphs) {
  test(`gradientAt matches central differences along random directions (${name})`, () => {
    const r = mulberry32(7);
    const n = size(g.input.shape);
    for (let trial = 0; trial < 5; trial++) {
      const x = Float64Array.from({ length: n }, () => gaussian(r));
      const c = Float64Array.from({ length: 10 }, () => gaussian(r));
      const { value, grad } = gradientAt(g, x, undefined, c);
      assert.ok(Math.abs(value - dot(c, forwardGraph(g, x))) <= 1e-9 * (1 + Math.abs(value)));
      const d = Float64Array.from({ length: n }, () => gaussian(r));
      const h = 1e-6;
      const f = (t: number): number => dot(c, forwardGraph(g, x.map((v, i) => v + t * d[i])));
      const fd = (f(h) - f(-h)) / (2 * h);
      const an = dot(grad, d);
      assert.ok(Math.abs(fd - an) <= 1e-4 * (1 + Math.abs(fd)), `${name}: directional derivative ${an}, differences ${fd}`);
    }
  });
}

test('gradientAt of an inner tensor (by node name) is the gradient of that tensor', () => {
  const g = graphs[0][1];
  const node = g.nodes.find((n) => n.op === 'relu')!;
  const r = mulberry32(3);
  const n = size(g.input.shape);
  const m = size(g.shapes.get(node.output)!);
  const x = Float64Array.from({ length: n }, () => gaussian(r));
  const c = Float64Array.from({ length: m }, () => gaussian(r));
  const { grad } = gradientAt(g, x, node.name, c);
  const d = Float64Array.from({ length: n }, () => gaussian(r));
  const { value: p } = gradientAt(g, x.map((v, i) => v + 1e-6 * d[i]), node.name, c);
  const { value: q } = gradientAt(g, x.map((v, i) => v - 1e-6 * d[i]), node.name, c);
  assert.ok(Math.abs((p - q) / 2e-6 - dot(grad, d)) <= 1e-4 * (1 + Math.abs(dot(grad, d))));
});

test('descend stays in the box and finds no worse than the best of 200 samples (pytorchCnn, output 3)', () => {
  const g = graphs[0][1];
  const n = size(g.input.shape);
  const r = mulberry32(11);
  const centre = Float64Array.from({ length: n }, () => gaussian(r));
  const box = { lo: centre.map((v) => v - 0.05), hi: centre.map((v) => v + 0.05) };
  const c = new Float64Array(10);
  c[3] = 1;
  c[5] = -1;
  let sampled = Infinity;
  for (const x of startPoints(box, 200, 5)) sampled = Math.min(sampled, dot(c, forwardGraph(g, x)));
  const best = descend(g, box, linearObjective(g, c), startPoints(box, 3, 1), 30);
  for (let i = 0; i < n; i++) assert.ok(best.x[i] >= box.lo[i] && best.x[i] <= box.hi[i]);
  assert.ok(Math.abs(best.value - dot(c, forwardGraph(g, best.x))) < 1e-9);
  assert.ok(best.value <= sampled, `descent ${best.value}, samples ${sampled}`);
});
