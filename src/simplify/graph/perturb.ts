/**
 * How far a graph's outputs can move when some parameters move: g and g' differ only in the biases (by at most
 * bias[j] on output channel j) and weights (by at most weight[e], entry by entry) of some conv / dense nodes, the
 * latter reading inputs of magnitude at most inputMag in g' (bounds of g' on the domain). Then |g(x) - g'(x)| <= D
 * elementwise for every x of the domain, where D is carried forward through g: a conv / dense maps D to
 * |W| D + |dW| inputMag + its bias error (W x - W' x' = W (x - x') + (W - W') x'); relu, clip, tanh and
 * sigmoid are 1-Lipschitz (D unchanged); leakyrelu / prelu scale by max(1, |slope|); batchnorm / affine by |scale|;
 * max pooling takes the window's largest D, average pooling averages it (both: their own kernel on D); add and sub
 * add the D's; a ReLU whose input x' lies below an upper bound u (of g' on the domain, when given) moves by at most
 * min(D, max(0, u + D)), so a ReLU dead by a margin passes nothing; concat, reshape, transpose and pad (with 0) move them; softmax's Jacobian rows sum to at most 1/2
 * in absolute value and logsoftmax's to 2, so they give 1 x and 2 x the largest D. mul and div with a moved input
 * give no bound (Infinity). Every D is a sum of non-negative terms computed in float64; each node's result is
 * widened by 1e-9 relative, far above such sums' rounding (n 2^-53 for n terms).
 */
import type { Graph, GraphNode, Tensor } from '../../model/graph/types.ts';
import { forwardNode } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';

const WIDEN = 1 + 1e-9;

const absOf = (t: Tensor): Tensor => ({ shape: t.shape, data: t.data.map(Math.abs) });
const zerosLike = (t: Tensor): Tensor => ({ shape: t.shape, data: new Float64Array(t.data.length) });
const maxOf = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, v), 0);

/** A node's own parameter errors: per output channel of its bias; per entry of its weight, with the magnitude of
 * its input (per element, one sample) in the network it is compared with. */
export interface ParamError {
  bias?: Float64Array;
  weight?: { err: Float64Array; inputMag: Float64Array };
}

/** D of n's output from its inputs' D (a batch of one), with `err` its own parameter errors. */
function stepOf(g: Graph, n: GraphNode, ins: Float64Array[], err: ParamError | undefined, upper: Upper): Float64Array {
  const out = size(g.shapes.get(n.output)!);
  const moved = ins.some((d) => d.some((v) => v !== 0));
  if (!moved && !err) return new Float64Array(out);
  const scaled = (k: number): Float64Array => ins[0].map((v) => v * k);
  switch (n.op) {
    case 'conv': case 'dense': {
      const bias = err?.bias ? { shape: n.params.bias.shape, data: err.bias } : zerosLike(n.params.bias);
      const d = forwardNode(g, { ...n, params: { weight: absOf(n.params.weight), bias } } as GraphNode, ins, 1);
      if (!err?.weight) return d;
      const dw = forwardNode(g, { ...n, params: { weight: { shape: n.params.weight.shape, data: err.weight.err }, bias: zerosLike(n.params.bias) } } as GraphNode, [err.weight.inputMag], 1);
      return d.map((v, i) => v + dw[i]);
    }
    case 'relu': {
      const u = upper(n.inputs[0]);
      return u ? ins[0].map((d, e) => Math.min(d, Math.max(0, u[e] + d))) : ins[0].slice();
    }
    case 'clip': case 'tanh': case 'sigmoid': return ins[0].slice();
    case 'leakyrelu': return scaled(Math.max(1, Math.abs(n.attrs.alpha)));
    case 'prelu': return scaled(Math.max(1, maxOf(n.params.slope.data.map(Math.abs))));
    case 'batchnorm': return forwardNode(g, { ...n, params: { scale: absOf(n.params.scale), shift: zerosLike(n.params.shift) } } as GraphNode, ins, 1);
    case 'affine': return forwardNode(g, { ...n, params: { scale: absOf(n.params.scale), shift: zerosLike(n.params.shift) } } as GraphNode, ins, 1);
    case 'maxpool': case 'averagepool': case 'globalaveragepool': case 'concat': case 'reshape': case 'transpose': case 'add':
      return forwardNode(g, n, ins, 1);
    case 'sub': return forwardNode(g, { ...n, op: 'add' } as GraphNode, ins, 1);
    case 'pad': return forwardNode(g, { ...n, attrs: { ...n.attrs, value: 0 } } as GraphNode, ins, 1);
    case 'softmax': return new Float64Array(out).fill(maxOf(ins[0]));
    case 'logsoftmax': return new Float64Array(out).fill(2 * maxOf(ins[0]));
    case 'mul': case 'div': return new Float64Array(out).fill(Infinity);
  }
}

/** The largest |g(x) - g'(x)| over the outputs and every x, for bias moves only (err[node][j], output channel j). */
export const biasPerturbationBound = (g: Graph, err: ReadonlyMap<string, Float64Array>): number =>
  perturbationBound(g, new Map([...err].map(([k, bias]) => [k, { bias }])));

/** per element of a tensor of g (one sample), an upper bound of its value in g' on the domain, when known */
export type Upper = (tensor: string) => Float64Array | undefined;

/** The largest |g(x) - g'(x)| over the outputs and every x of the domain (conv / dense nodes' errors only). */
export function perturbationBound(g: Graph, err: ReadonlyMap<string, ParamError>, upper: Upper = () => undefined): number {
  if (err.size === 0) return 0;
  const d = new Map<string, Float64Array>([[g.input.name, new Float64Array(size(g.input.shape))]]);
  for (const n of g.nodes) {
    const e = err.get(n.name);
    if (e && n.op !== 'conv' && n.op !== 'dense') throw new Error(`internal: biasPerturbationBound: ${n.name} is a ${n.op}`);
    const step = stepOf(g, n, n.inputs.map((t) => d.get(t)!), e, upper);
    d.set(n.output, step.map((v) => (Number.isNaN(v) ? Infinity : v * WIDEN)));
  }
  return maxOf(d.get(g.output.name)!);
}
