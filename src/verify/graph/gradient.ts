/**
 * The gradient of c . T(x) at a point, by one reverse pass over the graph. With every tensor's bounds the point
 * value itself (lo = hi), each operator's bound rule is exact: a ReLU-like or clip node is stable and passes one
 * line, a max-pool window has a decided winner, McCormick planes and the reciprocal's tangent touch at the point.
 * So the rules' backward steps ARE the local linear map (the network is piecewise linear), and no operator needs a
 * derivative of its own; only the smooth ones, whose rules give constants on a point interval, are differentiated
 * here (sigmoid, tanh, softmax, log-softmax).
 */
import type { Graph, GraphNode, NodeOfOp, Shape } from '../../model/graph/types.ts';
import { forwardAll } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { ruleOf } from '../../bounds/graph/registry.ts';
import { backViewOf } from '../../bounds/graph/interval.ts';
import { exactItv } from '../../bounds/graph/util.ts';

export interface ValueGrad {
  value: number;
  grad: Float64Array;
}

/** The tensor a name denotes: a tensor name, or a node's name (its output). */
export function tensorName(g: Graph, name: string | undefined): string {
  if (name === undefined) return g.output.name;
  if (g.shapes.has(name)) return name;
  const n = g.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`internal: no tensor or node named '${name}'`);
  return n.output;
}

/** value = c . T(x), grad = d value / d x (T: `tensor`, the graph output by default). */
export function gradientAt(g: Graph, x: Float64Array, tensor: string | undefined, c: Float64Array): ValueGrad {
  const t = tensorName(g, tensor);
  const vals = forwardAll(g, x, 1);
  const y = vals.get(t)!;
  if (c.length !== y.length) throw new Error(`internal: ${c.length} coefficients for tensor '${t}' of ${y.length}`);
  let value = 0;
  for (let i = 0; i < y.length; i++) value += c[i] * y[i];
  const b: TensorBounds = new Map();
  for (const [k, v] of vals) b.set(k, exactItv(v, v));
  return { value, grad: reverse(g, b, vals, t, c) };
}

/** Reverse pass from tensor t with output coefficients c: the coefficients of the graph input. */
function reverse(g: Graph, b: TensorBounds, vals: Map<string, Float64Array>, t: string, c: Float64Array): Float64Array {
  const acc = new Map<string, Float64Array>([[t, Float64Array.from(c)]]);
  const last = g.nodes.findIndex((n) => n.output === t);
  for (let i = last; i >= 0; i--) {
    const n = g.nodes[i];
    const A = acc.get(n.output);
    if (!A) continue;
    acc.delete(n.output);
    const ins = smoothBackward(g, n, vals, A) ?? ruleOf(n.op).backward(backViewOf(g, b, n), A, 1).ins;
    ins.forEach((B, k) => {
      if (!B) return;
      const cur = acc.get(n.inputs[k]);
      if (!cur) acc.set(n.inputs[k], Float64Array.from(B));
      else for (let j = 0; j < cur.length; j++) cur[j] += B[j];
    });
  }
  return acc.get(g.input.name) ?? new Float64Array(size(g.input.shape));
}

/** The smooth operators' vector-Jacobian product from their output values; undefined for the others. */
function smoothBackward(g: Graph, n: GraphNode, vals: Map<string, Float64Array>, A: Float64Array): Float64Array[] | undefined {
  const y = vals.get(n.output)!;
  if (n.op === 'sigmoid') return [A.map((a, i) => a * y[i] * (1 - y[i]))];
  if (n.op === 'tanh') return [A.map((a, i) => a * (1 - y[i] * y[i]))];
  if (n.op === 'softmax' || n.op === 'logsoftmax') return [softmaxBackward(n, g.shapes.get(n.inputs[0])!, y, A)];
  return undefined;
}

/** softmax: dx = y (a - a . y); log-softmax: dx = a - softmax(x) sum(a), per normalised group. */
function softmaxBackward(n: NodeOfOp<'softmax' | 'logsoftmax'>, xs: Shape, y: Float64Array, A: Float64Array): Float64Array {
  const { axis, toEnd } = n.attrs;
  const len = toEnd ? size(xs.slice(axis)) : xs[axis];
  const inner = toEnd ? 1 : size(xs.slice(axis + 1));
  const outer = size(xs.slice(0, axis));
  const dx = new Float64Array(y.length);
  const log = n.op === 'logsoftmax';
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let s = 0;
      for (let k = 0; k < len; k++) s += log ? A[base + k * inner] : A[base + k * inner] * y[base + k * inner];
      for (let k = 0; k < len; k++) {
        const j = base + k * inner;
        dx[j] = log ? A[j] - Math.exp(y[j]) * s : y[j] * (A[j] - s);
      }
    }
  }
  return dx;
}
