/**
 * How far a graph's outputs can move when some biases move: g and g' differ only in the biases of some conv /
 * dense nodes, by at most err[node][j] on output channel j. Then |g(x) - g'(x)| <= D elementwise for every x, where
 * D is carried forward through g: a conv / dense maps D to |W| D plus its own bias error; relu, clip, tanh and
 * sigmoid are 1-Lipschitz (D unchanged); leakyrelu / prelu scale by max(1, |slope|); batchnorm / affine by |scale|;
 * max pooling takes the window's largest D, average pooling averages it (both: their own kernel on D); add and sub
 * add the D's; concat, reshape, transpose and pad (with 0) move them; softmax's Jacobian rows sum to at most 1/2
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

/** D of n's output from its inputs' D (a batch of one), with `err` its own bias error per output channel. */
function stepOf(g: Graph, n: GraphNode, ins: Float64Array[], err: Float64Array | undefined): Float64Array {
  const out = size(g.shapes.get(n.output)!);
  const moved = ins.some((d) => d.some((v) => v !== 0));
  if (!moved && !err) return new Float64Array(out);
  const scaled = (k: number): Float64Array => ins[0].map((v) => v * k);
  switch (n.op) {
    case 'conv': case 'dense': {
      const bias = err ? { shape: n.params.bias.shape, data: err } : zerosLike(n.params.bias);
      return forwardNode(g, { ...n, params: { weight: absOf(n.params.weight), bias } } as GraphNode, ins, 1);
    }
    case 'relu': case 'clip': case 'tanh': case 'sigmoid': return ins[0].slice();
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

/**
 * The largest |g(x) - g'(x)| over the outputs and every x, where g' is g with the bias of each node named in `err`
 * moved by at most err[node][j] on output channel j (conv / dense nodes only).
 */
export function biasPerturbationBound(g: Graph, err: ReadonlyMap<string, Float64Array>): number {
  if (err.size === 0) return 0;
  const d = new Map<string, Float64Array>([[g.input.name, new Float64Array(size(g.input.shape))]]);
  for (const n of g.nodes) {
    const e = err.get(n.name);
    if (e && n.op !== 'conv' && n.op !== 'dense') throw new Error(`internal: biasPerturbationBound: ${n.name} is a ${n.op}`);
    const step = stepOf(g, n, n.inputs.map((t) => d.get(t)!), e);
    d.set(n.output, step.map((v) => (Number.isNaN(v) ? Infinity : v * WIDEN)));
  }
  return maxOf(d.get(g.output.name)!);
}
