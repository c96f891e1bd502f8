/**
 * A sound bound on how far a float32 evaluation of a graph (the input rounded to float32, every node in float32 with
 * its sums in any order, fused multiply-adds or not) is from the exact value of the same numbers, over a box. The
 * proof of a quantisation is about exact arithmetic on the stored numbers; this is what float32 evaluation adds.
 *
 * Per tensor, elementwise: e >= |computed - exact|, a >= |exact| (from g's sound bounds on the box), M >= the sum of
 * |terms| of the linear expression that made it, and F the rounding depth of that expression. A linear node
 * (Higham 3.1, gamma_m = m u / (1 - m u), u = 2^-24): conv / dense e = |W| e_in + gamma_{m+1} M, M = |W| (M_in + e_in)
 * + |b|; batchnorm / affine e = |s| e_in + gamma_{F_in+3} M, M = |s| (M_in + e_in) + |t|; add / sub e = e1 + e2 +
 * gamma_{max F + 2} M. The depths let a runtime fuse a BatchNormalization, an affine or a residual Add into the
 * convolution before it (onnxruntime does): each term of the fused sum goes through at most that many roundings.
 * Nonlinear nodes: ReLU carries e (none where exact and computed inputs are both <= 0), MaxPool its window's max,
 * average pools gamma_{K+1} of the mean, leaky / parametric ReLU a product's rounding; reshapes carry e exactly.
 * Sigmoid, tanh, softmax and division have no proved rounding here: a graph with them is refused, by name.
 */
import { fail } from '../../errors.ts';
import type { Box } from '../../model/box.ts';
import type { Graph, GraphNode, Shape, Tensor } from '../../model/graph/types.ts';
import { forwardNode } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { graphIntervalBounds } from '../../bounds/graph/interval.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { backwardRounding, type State } from './graph-rounding-back.ts';

const U = 2 ** -24;
const gamma = (m: number): number => (m * U) / (1 - m * U);
/** this float64 computation's own rounding (relative, far above n 2^-53 for the sums formed here) */
const WIDEN = 1 + 1e-9;
/** float32 underflow: each operation may err by 2^-150 absolutely; this covers 2^30 of them per element */
const TINY = 1e-36;



const absT = (t: Tensor): Tensor => ({ shape: t.shape, data: t.data.map(Math.abs) });
const zeroT = (t: Tensor): Tensor => ({ shape: t.shape, data: new Float64Array(t.data.length) });
const plus = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + b[i]);
const widened = (x: Float64Array): Float64Array => x.map((v) => v * WIDEN + TINY);
const magOf = (b: TensorBounds, t: string): Float64Array => {
  const i = b.get(t) ?? fail(`internal: no bounds of tensor '${t}'`);
  return i.lo.map((l, k) => Math.max(Math.abs(l), Math.abs(i.hi[k])));
};

/** The node with the absolute values of its parameters (zero bias / shift when `noShift`). */
function absNode(n: GraphNode, noShift: boolean): GraphNode {
  if (n.op === 'conv' || n.op === 'dense') return { ...n, params: { weight: absT(n.params.weight), bias: noShift ? zeroT(n.params.bias) : absT(n.params.bias) } } as GraphNode;
  if (n.op === 'affine' || n.op === 'batchnorm') return { ...n, params: { scale: absT(n.params.scale), shift: noShift ? zeroT(n.params.shift) : absT(n.params.shift) } } as GraphNode;
  return n;
}

function fanIn(g: Graph, n: GraphNode): number {
  if (n.op === 'dense') return n.params.weight.shape[1];
  if (n.op === 'conv') return size(n.params.weight.shape.slice(1));
  return 0;
}

/** The error of one node's output from its inputs' states; bounds: g's on the box. */
function step(g: Graph, n: GraphNode, ins: State[], b: TensorBounds): State {
  const run = (m: GraphNode, xs: Float64Array[]): Float64Array => forwardNode(g, m, xs, 1);
  const a = magOf(b, n.output);
  const plain = (e: Float64Array): State => ({ e: widened(e), M: plus(a, e), F: 0 });
  const [x] = ins;
  switch (n.op) {
    case 'conv':
    case 'dense': {
      const M = widened(run(absNode(n, false), [plus(x.M, x.e)]));
      const fresh = M.map((v) => gamma(fanIn(g, n) + 1) * v);
      return { e: widened(run(absNode(n, true), [x.e]).map((v, i) => v + fresh[i])), M, F: fanIn(g, n) + 1, fresh };
    }
    case 'affine':
    case 'batchnorm': {
      const M = widened(run(absNode(n, false), [plus(x.M, x.e)]));
      const fresh = M.map((v) => gamma(x.F + 3) * v);
      return { e: widened(run(absNode(n, true), [x.e]).map((v, i) => v + fresh[i])), M, F: x.F + 2, fresh };
    }
    case 'add':
    case 'sub': {
      const add = { ...n, op: 'add' } as GraphNode;
      const [y] = ins.slice(1);
      const M = widened(run(add, [plus(x.M, x.e), plus(y.M, y.e)]));
      const fresh = M.map((v) => gamma(Math.max(x.F, y.F) + 2) * v);
      return { e: widened(run(add, [x.e, y.e]).map((v, i) => v + fresh[i])), M, F: Math.max(x.F, y.F) + 1, fresh };
    }
    case 'mul': {
      const [y] = ins.slice(1);
      const [ax, ay] = n.inputs.map((t) => magOf(b, t));
      const terms = [run(n, [ax, y.e]), run(n, [x.e, ay]), run(n, [x.e, y.e]), run(n, [plus(ax, x.e), plus(ay, y.e)])];
      return plain(terms[0].map((v, i) => v + terms[1][i] + terms[2][i] + U * terms[3][i]));
    }
    case 'relu': {
      const hi = b.get(n.inputs[0])!.hi;
      return plain(x.e.map((v, i) => (hi[i] + v <= 0 ? 0 : v)));
    }
    case 'leakyrelu':
    case 'prelu': {
      const s = n.op === 'leakyrelu' ? Math.abs(n.attrs.alpha) : Math.max(...n.params.slope.data.map(Math.abs));
      const ai = magOf(b, n.inputs[0]);
      return plain(x.e.map((v, i) => Math.max(1, s) * v + U * s * (ai[i] + v)));
    }
    case 'clip':
    case 'maxpool':
      return plain(n.op === 'clip' ? x.e : run(n, [x.e]));
    // exact moves of values: no rounding of their own
    case 'reshape':
    case 'transpose':
      return { ...plain(run(n, [x.e])), fresh: new Float64Array(x.e.length) };
    case 'concat':
      return { ...plain(run(n, ins.map((s) => s.e))), fresh: new Float64Array(size(g.shapes.get(n.output)!)) };
    case 'pad':
      return { ...plain(run({ ...n, attrs: { ...n.attrs, value: 0 } } as GraphNode, [x.e])), fresh: new Float64Array(size(g.shapes.get(n.output)!)) };
    case 'averagepool':
    case 'globalaveragepool': {
      const xs = g.shapes.get(n.inputs[0])! as Shape;
      const K = n.op === 'averagepool' ? n.attrs.kernel[0] * n.attrs.kernel[1] : xs[1] * xs[2];
      const ai = magOf(b, n.inputs[0]);
      const fresh = run(n, [plus(ai, x.e)]).map((v) => gamma(K + 1) * v);
      return { ...plain(run(n, [x.e]).map((v, i) => v + fresh[i])), fresh };
    }
    default:
      fail(`node '${n.name}' (${n.op}): float32 evaluation of ${n.op} has no proved rounding bound in nnshrink; quantize takes graphs of conv, dense, batchnorm, add, relu, pooling and reshaping nodes`);
  }
}

/** Per output element: the bound of |float32 g(x) - exact g(x)| over the box (the tighter of both passes). */
export function roundingOnBox(g: Graph, box: Box, how: 'interval' | 'crown' = 'crown'): Float64Array {
  const b = how === 'crown' ? graphCrownBounds(g, box) : graphIntervalBounds(g, box);
  const a0 = box.lo.map((l, i) => Math.max(Math.abs(l), Math.abs(box.hi[i])));
  const e0 = a0.map((v) => U * v + TINY);
  const st = new Map<string, State>([[g.input.name, { e: e0, M: plus(a0, e0), F: 0, fresh: e0 }]]);
  for (const n of g.nodes) st.set(n.output, step(g, n, n.inputs.map((t) => st.get(t)!), b));
  const forward = st.get(g.output.name)!.e;
  const back = backwardRounding(g, b, st);
  return forward.map((v, k) => Math.min(v, back[k]));
}

/** The largest bound over the outputs and the boxes of the domain. */
export function graphFloat32Rounding(g: Graph, domain: readonly Box[], how: 'interval' | 'crown' = 'crown'): number {
  let r = 0;
  for (const box of domain) for (const v of roundingOnBox(g, box, how)) r = Math.max(r, v);
  return r;
}
