/**
 * Measurements for bench/graph-linear.ts (issue 27's linear simplifications), one function per question:
 * - fcTail: what the chain pruner's linear steps could take from the fully-connected part (dense nodes on a 1-D
 *   input followed by a ReLU), beyond the constant neurons (rows of zero weights: the exact prune folds those):
 *   whole layers always active (foldable into the next), always-active neurons whose rows [w | b] are linearly
 *   dependent (the basis reduction: count = k - rank, rank by Gram-Schmidt with the chain's 1e-11 relative
 *   residual), and pairs of rows that are positive multiples (merges);
 * - convChains: Conv -> Conv with only per-channel linear nodes between (batchnorm, affine) or a ReLU proved always
 *   active everywhere, and whether folding each would store fewer parameters;
 * - sameTapChannels: MaxPool channels whose every window is won by the same tap (only then can a channel become a
 *   strided slice; a node becomes one only when all its channels are).
 */
import type { Graph, MaxPoolNode } from '../src/model/graph/types.ts';
import type { GraphCensus } from '../src/verify/graph/census.ts';
import type { Itv } from '../src/bounds/graph/types.ts';
import { poolTaps } from '../src/model/graph/ops/pool-common.ts';

const DEP_REL = 1e-11;

/** The rank of the rows (each of length n) by modified Gram-Schmidt, a row counted when its residual is above
 * DEP_REL times its norm. */
function rank(rows: Float64Array[]): number {
  const basis: Float64Array[] = [];
  for (const r of rows) {
    const v = r.slice();
    const norm = Math.hypot(...v);
    for (const b of basis) {
      let d = 0;
      for (let i = 0; i < v.length; i++) d += v[i] * b[i];
      for (let i = 0; i < v.length; i++) v[i] -= d * b[i];
    }
    const res = Math.hypot(...v);
    if (res > DEP_REL * norm && res > 0) basis.push(v.map((x) => x / res));
  }
  return basis.length;
}

/** Pairs of rows that are positive multiples of each other (relative residual below DEP_REL). */
function positiveMultiples(rows: Float64Array[]): number {
  let pairs = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const a = rows[i];
      const b = rows[j];
      let ab = 0;
      let aa = 0;
      for (let e = 0; e < a.length; e++) (ab += a[e] * b[e]), (aa += a[e] * a[e]);
      if (!(ab > 0) || aa === 0) continue;
      const alpha = ab / aa;
      let res = 0;
      for (let e = 0; e < a.length; e++) res = Math.max(res, Math.abs(b[e] - alpha * a[e]));
      if (res <= DEP_REL * Math.max(...b.map(Math.abs))) pairs++;
    }
  }
  return pairs;
}

export interface FcLayer {
  node: string;
  neurons: number;
  inputs: number;
  never: number;
  /** live neurons whose weights are all zero (constant: folded by the exact prune, left out of what follows) */
  constant: number;
  always: number;
  /** always-active neurons the basis reduction would remove */
  dependent: number;
  /** pairs of neurons that a merge would join */
  merges: number;
}

/** Per dense node on a 1-D input whose output goes into a ReLU the census covers. */
export function fcTail(g: Graph, census: GraphCensus): FcLayer[] {
  const byInput = new Map(census.layers.map((l) => [g.nodes.find((n) => n.name === l.node)!.inputs[0], l]));
  const out: FcLayer[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'dense' || g.shapes.get(n.inputs[0])!.length !== 1) continue;
    const L = byInput.get(n.output);
    if (!L) continue;
    const [m, k] = n.params.weight.shape;
    const rowOf = (i: number): Float64Array => {
      const r = new Float64Array(k + 1);
      r.set(n.params.weight.data.subarray(i * k, (i + 1) * k));
      r[k] = n.params.bias.data[i];
      return r;
    };
    const zeroRow = (i: number): boolean => n.params.weight.data.subarray(i * k, (i + 1) * k).every((w) => w === 0);
    const live = Array.from({ length: m }, (_, i) => i).filter((i) => L.phases[i] !== 'never');
    const alive = live.filter((i) => !zeroRow(i));
    const always = alive.filter((i) => L.phases[i] === 'always');
    out.push({ node: n.name, neurons: m, inputs: k, never: m - live.length, constant: live.length - alive.length, always: always.length, dependent: always.length - rank(always.map(rowOf)), merges: positiveMultiples(alive.map(rowOf)) });
  }
  return out;
}

export interface ConvChain {
  first: string;
  second: string;
  /** parameters of the two convs as they are, and of the one conv folding them would give */
  now: number;
  folded: number;
}

const LINEAR_BETWEEN = new Set(['batchnorm', 'affine']);

/** Conv -> (batchnorm | affine | ReLU always active everywhere)* -> Conv, each tensor read once. */
export function convChains(g: Graph, census: GraphCensus): ConvChain[] {
  const linearRelu = new Set(census.layers.filter((l) => l.counts.always === l.phases.length).map((l) => l.node));
  const producer = new Map(g.nodes.map((n) => [n.output, n]));
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const t of n.inputs) readers.set(t, (readers.get(t) ?? 0) + 1);
  const out: ConvChain[] = [];
  for (const second of g.nodes) {
    if (second.op !== 'conv') continue;
    let p = producer.get(second.inputs[0]);
    while (p && (LINEAR_BETWEEN.has(p.op) || (p.op === 'relu' && linearRelu.has(p.name))) && readers.get(p.output) === 1) p = producer.get(p.inputs[0]);
    if (!p || p.op !== 'conv' || readers.get(p.output) !== 1) continue;
    const [c1, i1, kh1, kw1] = p.params.weight.shape;
    const [c2, , kh2, kw2] = second.params.weight.shape;
    const now = c1 * i1 * kh1 * kw1 + c1 + c2 * c1 * kh2 * kw2 + c2;
    // the composed kernel spans both (stride 1, dilation 1): (kh1 + kh2 - 1) x (kw1 + kw2 - 1)
    out.push({ first: p.name, second: second.name, now, folded: c2 * i1 * (kh1 + kh2 - 1) * (kw1 + kw2 - 1) + c2 });
  }
  return out;
}

/** MaxPool channels whose every window has the same decided winner tap (offset in the window). */
export function sameTapChannels(g: Graph, n: MaxPoolNode, b: Itv): { channels: number; same: number } {
  const xs = g.shapes.get(n.inputs[0])!;
  const os = g.shapes.get(n.output)!;
  const [C, H, W] = xs;
  const [rows, cols] = poolTaps(n.attrs, xs, os);
  let same = 0;
  for (let c = 0; c < C; c++) {
    let tap: number | null | undefined;
    for (const r of rows) {
      for (const q of cols) {
        const idx = Array.from(r).flatMap((y) => Array.from(q, (x) => (c * H + y) * W + x));
        const w = idx.findIndex((a) => idx.every((o) => o === a || b.lo[a] >= b.hi[o]));
        tap = w < 0 || (tap !== undefined && tap !== w) ? null : (tap ?? w);
      }
      if (tap === null) break;
    }
    if (tap !== null && tap !== undefined) same++;
  }
  return { channels: C, same };
}
