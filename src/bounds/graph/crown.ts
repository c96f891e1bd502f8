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
  /** sound bounds of a superset of the domain (a branch's parent): every tensor is intersected with them */
  parent?: TensorBounds;
  /** tensors whose bounds are taken from `parent` unchanged (a branch: those not downstream of its split) */
  reuse?: ReadonlySet<string>;
  /**
   * ReLU split decisions by ReLU-like node name, per element of its input: +1 the input is >= 0 (active), -1 it is
   * <= 0 (inactive), 0 free. The bounds then hold on the part of the box where the decisions hold.
   */
  splits?: ReadonlyMap<string, Int8Array>;
  /**
   * a Date.now() time: past it, the tensors left keep their intervals (still sound, only looser), so a time limit
   * holds on networks whose full pass takes longer than the limit
   */
  deadline?: number;
}

/** The decisions on each tensor: the ReLU-like node's input gets its node's decisions. */
function splitsByTensor(g: Graph, splits?: ReadonlyMap<string, Int8Array>): Map<string, Int8Array[]> {
  const out = new Map<string, Int8Array[]>();
  if (!splits) return out;
  for (const n of g.nodes) {
    const d = splits.get(n.name);
    if (d) out.set(n.inputs[0], [...(out.get(n.inputs[0]) ?? []), d]);
  }
  return out;
}

/** x intersected with the parent's bounds and clamped by the split decisions (lo > hi: no point satisfies them). */
function restrict(x: Itv, parent: Itv | undefined, decisions: Int8Array[] | undefined): Itv {
  if (!parent && !decisions) return x;
  const lo = Float64Array.from(x.lo);
  const hi = Float64Array.from(x.hi);
  if (parent) {
    for (let i = 0; i < lo.length; i++) {
      lo[i] = Math.max(lo[i], parent.lo[i]);
      hi[i] = Math.min(hi[i], parent.hi[i]);
    }
  }
  for (const d of decisions ?? []) {
    for (let i = 0; i < lo.length; i++) {
      if (d[i] > 0) lo[i] = Math.max(lo[i], 0);
      else if (d[i] < 0) hi[i] = Math.min(hi[i], 0);
    }
  }
  return { lo, hi, mag: x.mag };
}

/** Whether some element's bounds are empty (lo > hi): the split decisions cannot all hold. */
export function isEmptyItv(x: Itv): boolean {
  for (let i = 0; i < x.lo.length; i++) if (x.lo[i] > x.hi[i]) return true;
  return false;
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

const pastDeadline = (deadline?: number): boolean => deadline !== undefined && Date.now() > deadline;

/** Tightens the listed neurons of tensor t by backward bounds, chunk by chunk until the deadline (if any). */
export function tighten(g: Graph, b: TensorBounds, t: string, idx: Int32Array, chunk: number, slopes?: Slopes, deadline?: number): Itv {
  const cur = b.get(t)!;
  const lo = Float64Array.from(cur.lo);
  const hi = Float64Array.from(cur.hi);
  const n = lo.length;
  for (let p = 0; p < idx.length && !pastDeadline(deadline); p += chunk) {
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

/** CROWN bounds of every tensor of a graph over a box (a Map from tensor name to its interval). */
export function graphCrownBounds(g: Graph, box: Box, opts: CrownOptions = {}): TensorBounds {
  const b = graphSplitBounds(g, box, opts);
  // only split decisions can empty the domain; their callers use graphSplitBounds, which says so
  if (!b) throw new Error('internal: the split decisions leave no point of the box (use graphSplitBounds)');
  return b;
}

/**
 * graphCrownBounds on the part of the box where opts.splits hold (intersected with opts.parent, reusing the
 * tensors opts.reuse names); null when the decisions cannot all hold (some tensor's bounds come out empty).
 */
export function graphSplitBounds(g: Graph, box: Box, opts: CrownOptions = {}): TensorBounds | null {
  const decided = splitsByTensor(g, opts.splits);
  const b: TensorBounds = new Map([[g.input.name, restrict(boxItv(g, box), undefined, decided.get(g.input.name))]]);
  if (isEmptyItv(b.get(g.input.name)!)) return null;
  const exact = exactTensors(g);
  const consumers = new Map<string, GraphNode[]>();
  for (const n of g.nodes) for (const t of n.inputs) consumers.set(t, [...(consumers.get(t) ?? []), n]);
  const chunk = chunkSize(g, opts.memoryBudget ?? 2 ** 30);
  for (const n of g.nodes) {
    const t = n.output;
    const par = opts.parent?.get(t);
    const own = opts.reuse?.has(t) && par ? par : nodeInterval(g, b, n);
    b.set(t, restrict(own, par === own ? undefined : par, decided.get(t)));
    if (isEmptyItv(b.get(t)!)) return null;
    if (exact.has(t) || own === par || pastDeadline(opts.deadline)) continue;
    const mask = wanted(g, b, t, consumers.get(t) ?? [], opts.tensors === 'all');
    if (!mask) continue;
    const idx = Int32Array.from(Array.from(mask).flatMap((m, i) => (m ? [i] : [])));
    if (idx.length > 0) b.set(t, tighten(g, b, t, idx, chunk, opts.slopes, opts.deadline));
    if (isEmptyItv(b.get(t)!)) return null;
  }
  return b;
}
