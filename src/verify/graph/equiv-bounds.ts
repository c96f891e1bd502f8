/**
 * Proved bounds of d = f(x) - g(x) over one box, per output and sign, by the two methods: the product method (CROWN
 * on the product graph, then optimised slopes per open side: the correlation through the shared input is kept) and
 * the diff method (the difference tensor op by op, diff-bounds.ts, on f's and g's bounds taken from the same pass).
 * Each side keeps the tighter of what the methods give: both are sound.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import type { Itv, TensorBounds } from '../../bounds/graph/types.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { graphObjectiveBound } from '../../bounds/graph/objective.ts';
import { F_PREFIX, G_PREFIX, PRODUCT_INPUT } from '../../model/graph/product.ts';
import type { Alignment } from './diff-align.ts';
import { graphDiffBounds, tensorMap } from './diff-bounds.ts';
import { diffLowerRows } from './diff-backward.ts';

export type EquivMethod = 'diff' | 'product' | 'auto';

/** What the equivalence searches need of f and g together. */
export interface EquivPair {
  f: Graph;
  g: Graph;
  /** the product (x -> f - g) or stacked (x -> [f; g]) graph the product method bounds */
  h: Graph;
  /** f and g aligned node by node, when they have the same structure */
  align: Alignment;
}

/** One side's tensors out of a product or stacked graph's bounds, by the side's own names. */
export function sideBounds(hb: TensorBounds, side: Graph, prefix: string): TensorBounds {
  const b: TensorBounds = new Map([[side.input.name, hb.get(PRODUCT_INPUT)!]]);
  for (const n of side.nodes) b.set(n.output, hb.get(prefix + n.output)!);
  return b;
}

/**
 * The diff method's bound of f's output difference, or why it does not apply: the forward intervals, then both
 * signs of every output bounded backward through the differences (diff-backward.ts), kept where tighter.
 */
export function diffOutput(p: EquivPair, hb: TensorBounds): Itv | string {
  if (!p.align.ok) return `not the same structure: ${p.align.reason}`;
  const fb = sideBounds(hb, p.f, F_PREFIX);
  const gb = sideBounds(hb, p.g, G_PREFIX);
  const toG = tensorMap(p.f, p.g, p.align);
  const r = graphDiffBounds(p.f, p.align, fb, gb, toG);
  if (!r.ok) return r.reason;
  const out = r.d.get(p.f.output.name)!;
  const m = out.lo.length;
  const A = new Float64Array(2 * m * m);
  for (let k = 0; k < m; k++) {
    A[k * m + k] = 1;
    A[(m + k) * m + k] = -1;
  }
  const low = diffLowerRows({ f: p.f, align: p.align, fb, gb, toG, d: r.d, terms: r.terms }, p.f.output.name, A, 2 * m);
  return { lo: out.lo.map((l, k) => Math.max(l, low[k])), hi: out.hi.map((h, k) => Math.min(h, -low[m + k])), mag: out.mag };
}

export interface SideBounds {
  /** per output k: proved upper bounds of f_k - g_k and of g_k - f_k */
  up: Float64Array;
  down: Float64Array;
  /** the product graph's bounds (for further searches on it) */
  hb: TensorBounds;
  /** why the diff method was not used, when it was asked for */
  diffRefused?: string;
}

/** Bounds of both signs of every output over the box by the chosen method (diff refused: the product method). */
export function linfSides(p: EquivPair, box: Box, method: EquivMethod): SideBounds {
  const hb = graphCrownBounds(p.h, box);
  const out = hb.get(p.h.output.name)!;
  const m = out.lo.length;
  const up = new Float64Array(m).fill(Infinity);
  const down = new Float64Array(m).fill(Infinity);
  const take = (lo: Float64Array, hi: Float64Array): void => {
    for (let k = 0; k < m; k++) {
      up[k] = Math.min(up[k], hi[k]);
      down[k] = Math.min(down[k], -lo[k]);
    }
  };
  let diffRefused: string | undefined;
  if (method !== 'product') {
    const d = diffOutput(p, hb);
    if (typeof d === 'string') diffRefused = d;
    else take(d.lo, d.hi);
  }
  if (method !== 'diff' || diffRefused) take(out.lo, out.hi);
  return { up, down, hb, diffRefused };
}

/** Optimised slopes for one side of output k of the product graph: a proved upper bound of sign * d_k. */
export function alphaSide(p: EquivPair, box: Box, hb: TensorBounds, k: number, sign: 1 | -1): number {
  const c = new Float64Array(hb.get(p.h.output.name)!.lo.length);
  c[k] = -sign;
  return -graphObjectiveBound(p.h, box, { node: p.h.output.name, coeffs: c }, { bounds: hb, alpha: true });
}
