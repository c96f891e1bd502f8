/**
 * A tighter bound of float32 evaluation error, backward (graph-rounding.ts gives the forward one and each linear
 * node's own rounding `fresh`). The error of a tensor is a linear function of the errors before it wherever the
 * path is linear: through conv, dense, batchnorm, affine, add / sub, average pools and reshapes (each adding its
 * own rounding delta, |delta| <= fresh), and through a ReLU whose exact and computed inputs are both >= 0 (slope 1)
 * or both <= 0 (slope 0); an unstable ReLU passes half its error and cuts the other half. Elsewhere (MaxPool, leaky
 * ReLU, Mul ...) the path is cut: that tensor's error enters as a free variable bounded by its forward bound e. So, per output k, with the rows carried back by
 * the nodes' own backward rules (the signed weights: their cancellations are kept, where the forward |W| e loses
 * them): |error_k| <= sum over linear tensors T of |A_T| fresh_T + sum over cut tensors C of |A_C| e_C.
 */
import { fail } from '../../errors.ts';
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { ruleOf } from '../../bounds/graph/registry.ts';
import { backViewOf } from '../../bounds/graph/interval.ts';

/** A tensor's forward error bound e, its term magnitude M and depth F; fresh: the rounding its own (linear) node
 * adds, given its computed inputs (graph-rounding.ts). */
export interface State {
  e: Float64Array;
  M: Float64Array;
  F: number;
  fresh?: Float64Array;
}

const LINEAR = new Set<GraphNode['op']>(['conv', 'dense', 'batchnorm', 'affine', 'add', 'sub', 'averagepool', 'globalaveragepool', 'reshape', 'transpose', 'concat', 'pad']);

/** total[s] += sum_j |A[s, j]| v[j] */
function charge(total: Float64Array, A: Float64Array, v: Float64Array): void {
  const n = v.length;
  for (let s = 0; s < total.length; s++) {
    let t = 0;
    for (let j = 0, o = s * n; j < n; j++) t += Math.abs(A[o + j]) * v[j];
    total[s] += t;
  }
}

function add(acc: Map<string, Float64Array>, t: string, B: Float64Array): void {
  const cur = acc.get(t);
  if (!cur) acc.set(t, Float64Array.from(B));
  else for (let i = 0; i < cur.length; i++) cur[i] += B[i];
}

/**
 * The ReLU's input rows: its output's where the slope is 1 for exact and computed inputs alike, none where 0; an
 * unstable one's error is s d_in with s in [0, 1], = d_in / 2 + (s - 1/2) d_in: half passes, half is cut.
 */
function reluRows(A: Float64Array, S: number, lo: Float64Array, hi: Float64Array, e: Float64Array): { pass: Float64Array; cut: Float64Array } {
  const n = lo.length;
  const pass = new Float64Array(A.length);
  const cut = new Float64Array(A.length);
  for (let j = 0; j < n; j++) {
    const active = lo[j] - e[j] >= 0;
    const dead = hi[j] + e[j] <= 0;
    for (let s = 0; s < S; s++) {
      const i = s * n + j;
      if (active) pass[i] = A[i];
      else if (!dead) pass[i] = cut[i] = A[i] / 2;
    }
  }
  return { pass, cut };
}

/** Per output: the backward bound of |float32 g - exact g|; `st` the forward states, `b` g's bounds. */
export function backwardRounding(g: Graph, b: TensorBounds, st: ReadonlyMap<string, State>): Float64Array {
  const S = size(g.output.shape);
  const A0 = new Float64Array(S * S);
  for (let s = 0; s < S; s++) A0[s * S + s] = 1;
  const acc = new Map<string, Float64Array>([[g.output.name, A0]]);
  const total = new Float64Array(S);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    const A = acc.get(n.output);
    if (!A) continue;
    acc.delete(n.output);
    const out = st.get(n.output) ?? fail(`internal: no rounding state of '${n.output}'`);
    if (n.op === 'relu') {
      const x = b.get(n.inputs[0])!;
      const r = reluRows(A, S, x.lo, x.hi, st.get(n.inputs[0])!.e);
      charge(total, r.cut, out.e);
      add(acc, n.inputs[0], r.pass);
    } else if (LINEAR.has(n.op) && out.fresh) {
      charge(total, A, out.fresh);
      const res = ruleOf(n.op).backward(backViewOf(g, b, n), A, S);
      res.ins.forEach((B, k) => B && add(acc, n.inputs[k], B));
    } else charge(total, A, out.e);
  }
  const A = acc.get(g.input.name);
  if (A) charge(total, A, st.get(g.input.name)!.fresh!);
  // this float64 pass's own rounding: far below 1e-9 of the sums and 1e-12 of the forward bound (no cancellation)
  const forward = st.get(g.output.name)!.e;
  return total.map((t, s) => t * (1 + 1e-9) + 1e-12 * forward[s] + 1e-36);
}
