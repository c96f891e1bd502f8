/**
 * The census's sites and witnesses. A site is one ReLU-like node's input tensor with the point of its kink (0 for
 * relu, leakyrelu and prelu; a clip's lower bound, or its upper one when it has none below). Witnesses are evaluated
 * points: plain forward evaluation (forwardAll) only, so a 'both' element is backed by real values on each side.
 */
import type { Graph, Shape } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import { forwardAll } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { mulberry32 } from '../../model/rng.ts';

export interface Site {
  /** the ReLU-like node's name */
  readonly node: string;
  /** its input tensor, whose sign (against the kink) is the phase */
  readonly tensor: string;
  readonly shape: Shape;
  readonly kink: number;
}

/** Per site and element: the index of a point (in `points`) where the input is above (below) the kink, or -1. */
export interface Witnesses {
  readonly points: Float64Array[];
  readonly above: Int32Array[];
  readonly below: Int32Array[];
}

const KINKED = new Set(['relu', 'leakyrelu', 'prelu', 'clip']);

/** Every ReLU-like node of the graph, in topological order (a clip with no finite bound has no kink: left out). */
/** The ReLU-like nodes of g (only those named in `only`, when given). */
export function censusSites(g: Graph, only?: ReadonlySet<string>): Site[] {
  const sites: Site[] = [];
  for (const n of g.nodes) {
    if (!KINKED.has(n.op) || (only && !only.has(n.name))) continue;
    let kink = 0;
    if (n.op === 'clip') kink = Number.isFinite(n.attrs.min) ? n.attrs.min : n.attrs.max;
    if (!Number.isFinite(kink)) continue;
    sites.push({ node: n.name, tensor: n.inputs[0], shape: g.shapes.get(n.inputs[0])!, kink });
  }
  return sites;
}

export function newWitnesses(sites: readonly Site[]): Witnesses {
  return { points: [], above: sites.map((s) => new Int32Array(size(s.shape)).fill(-1)), below: sites.map((s) => new Int32Array(size(s.shape)).fill(-1)) };
}

/**
 * Evaluates a batch of points (each inside the boxes' union) and records the first witness of each side per
 * element; a point is kept only when it witnesses something new. Returns how many witnesses were new.
 */
export function recordBatch(g: Graph, sites: readonly Site[], w: Witnesses, xs: readonly Float64Array[]): number {
  if (xs.length === 0) return 0;
  const n = xs[0].length;
  const flat = new Float64Array(xs.length * n);
  xs.forEach((x, k) => flat.set(x, k * n));
  const vals = forwardAll(g, flat, xs.length);
  const slot = new Int32Array(xs.length).fill(-1);
  const slotOf = (k: number): number => {
    if (slot[k] < 0) slot[k] = w.points.push(xs[k]) - 1;
    return slot[k];
  };
  let fresh = 0;
  sites.forEach((site, s) => {
    const v = vals.get(site.tensor)!;
    const m = w.above[s].length;
    const above = w.above[s];
    const below = w.below[s];
    for (let k = 0; k < xs.length; k++) {
      for (let i = 0, o = k * m; i < m; i++) {
        const d = v[o + i] - site.kink;
        if (d > 0 && above[i] < 0) {
          above[i] = slotOf(k);
          fresh++;
        } else if (d < 0 && below[i] < 0) {
          below[i] = slotOf(k);
          fresh++;
        }
      }
    }
  });
  return fresh;
}

/**
 * The sampling points of one box, deterministic from the seed: its centre, its two extreme corners, then
 * alternately a uniform point and a random corner (piecewise linear extremes lie at corners).
 */
export function samplePoints(box: Box, count: number, seed: number): Float64Array[] {
  const rng = mulberry32(seed);
  const out: Float64Array[] = [];
  const make = (f: (lo: number, hi: number) => number): Float64Array => Float64Array.from(box.lo, (l, i) => f(l, box.hi[i]));
  const candidates = [make((l, h) => 0.5 * l + 0.5 * h), make((l) => l), make((_, h) => h)];
  for (const c of candidates) if (out.length < count) out.push(c);
  while (out.length < count) {
    out.push(out.length % 2 === 1 ? make((l, h) => l + rng() * (h - l)) : make((l, h) => (rng() < 0.5 ? l : h)));
  }
  return out;
}
