/**
 * A full CROWN pass over a graph: in topological order each node's interval (from the best bounds of its inputs),
 * then, for a tensor that a nonlinear operator reads (or the graph output), backward bounds of the neurons that
 * operator wants tightened (a ReLU's unstable inputs; all inputs of a sigmoid, maxpool, mul ...), kept where
 * tighter. Rows go back in chunks sized by a memory budget; lower and upper bounds share one pass (rows e_i, -e_i).
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import type { Itv, Slopes, TensorBounds } from './types.ts';
import { ruleOf } from './registry.ts';
import { boxItv, nodeInterval, viewOf } from './interval.ts';
import { lowerRows } from './backward.ts';

export interface CrownOptions {
  /** bytes of coefficient tensors live at once (default 1 GiB): the rows' chunk size follows from it */
  memoryBudget?: number;
  /** optimised lower slopes of ReLU-like nodes, by node name (default: CROWN's adaptive choice) */
  slopes?: Slopes;
  /** tighten only the inputs of nonlinear nodes and the output (default); 'all': every node's output */
  tensors?: 'nonlinear' | 'all';
}

/** linear maps that mix elements of one input */
const MIXING = new Set(['conv', 'dense', 'averagepool', 'globalaveragepool']);
/** ops that keep exact intervals exact: they move values or map each element alone (monotone or piecewise linear) */
const ELEMENTWISE = new Set(['reshape', 'transpose', 'pad', 'concat', 'affine', 'batchnorm', 'relu', 'leakyrelu', 'prelu', 'clip', 'sigmoid', 'tanh']);

/**
 * Tensors whose interval is already exact up to rounding: made from the input by elementwise or value-moving ops
 * and at most one linear map of a single input (an interval of one affine map over a box is its exact range, and
 * an elementwise map of exact ranges gives exact ranges): backward bounds cannot tighten them.
 */
function exactTensors(g: Graph): Set<string> {
  const maps = new Map<string, number>([[g.input.name, 0]]);
  for (const n of g.nodes) {
    const ins = n.inputs.map((t) => maps.get(t) ?? Infinity);
    const own = ELEMENTWISE.has(n.op) ? 0 : MIXING.has(n.op) ? 1 : Infinity;
    maps.set(n.output, Math.max(...ins) + own);
  }
  return new Set([...maps].filter(([, d]) => d <= 1).map(([t]) => t));
}

/** Which neurons of tensor t to tighten: the union of what its consumers ask (all, for the graph output). */
function wanted(g: Graph, b: TensorBounds, t: string, consumers: readonly GraphNode[], all: boolean): Uint8Array | undefined {
  const n = b.get(t)!.lo.length;
  let mask: Uint8Array | undefined;
  const take = (m: boolean | Uint8Array): void => {
    if (m === false) return;
    mask ??= new Uint8Array(n);
    if (m === true) mask.fill(1);
    else for (let i = 0; i < n; i++) mask[i] |= m[i];
  };
  if (all || t === g.output.name) take(true);
  for (const c of consumers) {
    const r = ruleOf(c.op).refine;
    if (r && c.inputs.every((x) => b.has(x))) take(r(viewOf(g, b, c)));
    else if (r) take(true); // a consumer with another input not yet bounded: tighten all it may need
  }
  return mask;
}

/** Rows per backward pass: 2 x rows x (the widest tensor) doubles, about four such arrays live at once. */
function chunkSize(g: Graph, budget: number): number {
  let widest = 1;
  for (const s of g.shapes.values()) widest = Math.max(widest, s.reduce((a, c) => a * c, 1));
  return Math.max(1, Math.floor(budget / (8 * 2 * 4 * widest)));
}

/** Tightens the listed neurons of tensor t by backward bounds; returns the tightened interval. */
export function tighten(g: Graph, b: TensorBounds, t: string, idx: Int32Array, chunk: number, slopes?: Slopes): Itv {
  const cur = b.get(t)!;
  const lo = Float64Array.from(cur.lo);
  const hi = Float64Array.from(cur.hi);
  const n = lo.length;
  for (let p = 0; p < idx.length; p += chunk) {
    const part = idx.subarray(p, Math.min(idx.length, p + chunk));
    const c = part.length;
    const A = new Float64Array(2 * c * n);
    part.forEach((i, r) => {
      A[r * n + i] = 1;
      A[(c + r) * n + i] = -1;
    });
    const low = lowerRows(g, b, t, A, 2 * c, slopes);
    part.forEach((i, r) => {
      lo[i] = Math.max(lo[i], low[r]);
      hi[i] = Math.min(hi[i], -low[c + r]);
    });
  }
  return { lo, hi, mag: cur.mag };
}

export function graphCrownBounds(g: Graph, box: Box, opts: CrownOptions = {}): TensorBounds {
  const b: TensorBounds = new Map([[g.input.name, boxItv(g, box)]]);
  const exact = exactTensors(g);
  const consumers = new Map<string, GraphNode[]>();
  for (const n of g.nodes) for (const t of n.inputs) consumers.set(t, [...(consumers.get(t) ?? []), n]);
  const chunk = chunkSize(g, opts.memoryBudget ?? 2 ** 30);
  for (const n of g.nodes) {
    b.set(n.output, nodeInterval(g, b, n));
    if (exact.has(n.output)) continue;
    const mask = wanted(g, b, n.output, consumers.get(n.output) ?? [], opts.tensors === 'all');
    if (!mask) continue;
    const idx = Int32Array.from(Array.from(mask).flatMap((m, i) => (m ? [i] : [])));
    if (idx.length > 0) b.set(n.output, tighten(g, b, n.output, idx, chunk, opts.slopes));
  }
  return b;
}
