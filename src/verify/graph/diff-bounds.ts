/**
 * The diff method's bounds: the difference tensor d_t = t_f - t_g of two graphs of the same structure, carried
 * node by node (diff-rules.ts) from d = 0 at the shared input, each step intersected with what f's and g's own
 * bounds allow ([lo_f - hi_g, hi_f - lo_g]). A network derived from f (a perturbed or pruned copy) differs little
 * at every tensor, which the separate bounds of f and g cannot see. Where f and g have the same parameters and
 * equal inputs, a node's outputs are the same floats: d stays exactly 0 (a graph against itself is proved at 0).
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Itv, TensorBounds } from '../../bounds/graph/types.ts';
import { widenHi, widenLo } from '../../bounds/round.ts';
import type { Alignment } from './diff-align.ts';
import { diffStep, isZero } from './diff-rules.ts';
import { diffLowerRows, type DiffState } from './diff-backward.ts';

const RELU_LIKE = new Set(['relu', 'leakyrelu', 'prelu']);

/** Elements of tensor t whose ReLU-like consumer is not in one phase in both graphs: their d is worth tightening. */
function unsettled(g: Graph, t: string, f: Itv, gg: Itv): Int32Array {
  if (!g.nodes.some((n) => RELU_LIKE.has(n.op) && n.inputs[0] === t)) return new Int32Array(0);
  const idx: number[] = [];
  for (let i = 0; i < f.lo.length; i++) if (!((f.lo[i] >= 0 && gg.lo[i] >= 0) || (f.hi[i] <= 0 && gg.hi[i] <= 0))) idx.push(i);
  return Int32Array.from(idx);
}

/** bytes of row coefficients live at once in a backward pass over the differences */
const ROW_BUDGET = 2 ** 28;

/** d of tensor t tightened at the listed elements by backward bounds through the differences. */
function tightenDiff(s: DiffState, t: string, idx: Int32Array): Itv {
  const cur = s.d.get(t)!;
  const lo = Float64Array.from(cur.lo);
  const hi = Float64Array.from(cur.hi);
  const n = lo.length;
  let widest = 1;
  for (const sh of s.f.shapes.values()) widest = Math.max(widest, sh.reduce((a, b) => a * b, 1));
  const chunk = Math.max(1, Math.floor(ROW_BUDGET / (8 * 2 * 4 * widest)));
  for (let p = 0; p < idx.length; p += chunk) {
    const part = idx.subarray(p, Math.min(idx.length, p + chunk));
    const c = part.length;
    const A = new Float64Array(2 * c * n);
    part.forEach((i, r) => {
      A[r * n + i] = 1;
      A[(c + r) * n + i] = -1;
    });
    const low = diffLowerRows(s, t, A, 2 * c);
    part.forEach((i, r) => {
      lo[i] = Math.max(lo[i], low[r]);
      hi[i] = Math.min(hi[i], -low[c + r]);
    });
  }
  return { lo, hi, mag: cur.mag };
}

export type DiffResult = { ok: true; d: Map<string, Itv>; terms: Map<string, Itv> } | { ok: false; reason: string };

/** d kept within the separate bounds: [lo_f - hi_g, hi_f - lo_g], rounded outward. */
function meetSeparate(d: Itv, f: Itv, g: Itv): Itv {
  const n = d.lo.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = Math.abs(f.lo[i]) + Math.abs(f.hi[i]) + Math.abs(g.lo[i]) + Math.abs(g.hi[i]);
    const l = Math.max(d.lo[i], widenLo(f.lo[i] - g.hi[i], m));
    const h = Math.min(d.hi[i], widenHi(f.hi[i] - g.lo[i], m));
    // crossed only by rounding (both are sound): keep d's own
    [lo[i], hi[i]] = l <= h ? [l, h] : [d.lo[i], d.hi[i]];
  }
  return { lo, hi, mag: d.mag };
}

/** Widened for the rounding of f's and g's own computations of the output (their terms' magnitudes). */
function roundedFor(d: Itv, f: Itv, g: Itv): Itv {
  const n = d.lo.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const mag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = d.mag[i] + f.mag[i] + g.mag[i];
    lo[i] = widenLo(d.lo[i], m);
    hi[i] = widenHi(d.hi[i], m);
    mag[i] = Math.max(m, Math.abs(lo[i]), Math.abs(hi[i]));
  }
  return { lo, hi, mag };
}

const sameParams = (a: object, b: object): boolean =>
  Object.entries(a as Record<string, { data: Float64Array }>).every(([k, t]) => {
    const u = (b as Record<string, { data: Float64Array }>)[k].data;
    return t.data.every((x, i) => x === u[i]);
  });

/**
 * d of every tensor of f (by f's names) over the box that fb and gb bound (f's and g's bounds, every tensor), or why
 * a node has no difference rule.
 */
export function graphDiffBounds(f: Graph, align: Alignment & { ok: true }, fb: TensorBounds, gb: TensorBounds, toG: ReadonlyMap<string, string>): DiffResult {
  const n0 = fb.get(f.input.name)!.lo.length;
  const d = new Map<string, Itv>([[f.input.name, { lo: new Float64Array(n0), hi: new Float64Array(n0), mag: new Float64Array(n0) }]]);
  const terms = new Map<string, Itv>();
  for (const [nf, ng] of align.pairs) {
    const ds = nf.inputs.map((t) => d.get(t)!);
    const fOut = fb.get(nf.output)!;
    const gOut = gb.get(ng.output)!;
    if (ds.every(isZero) && sameParams(nf.params, ng.params)) {
      d.set(nf.output, { lo: new Float64Array(fOut.lo.length), hi: new Float64Array(fOut.lo.length), mag: new Float64Array(fOut.lo.length) });
      continue;
    }
    const step = diffStep({
      nf,
      ng,
      inShapes: nf.inputs.map((t) => f.shapes.get(t)!),
      outShape: f.shapes.get(nf.output)!,
      d: ds,
      fIn: nf.inputs.map((t) => fb.get(t)!),
      gIn: nf.inputs.map((t) => gb.get(toG.get(t)!)!),
    });
    if (typeof step === 'string') return { ok: false, reason: step };
    if (step.term) terms.set(nf.name, step.term);
    d.set(nf.output, meetSeparate(step.exact ? step.itv : roundedFor(step.itv, fOut, gOut), fOut, gOut));
    // one linear map from d = 0 is exact as an interval; deeper, the intervals lose the paths' cancellation
    const idx = ds.every(isZero) ? new Int32Array(0) : unsettled(f, nf.output, fOut, gOut);
    if (idx.length > 0) d.set(nf.output, tightenDiff({ f, align, fb, gb, toG, d, terms }, nf.output, idx));
  }
  return { ok: true, d, terms };
}

/** f's tensor names to g's, along the alignment. */
export function tensorMap(f: Graph, g: Graph, align: Alignment & { ok: true }): Map<string, string> {
  const m = new Map<string, string>([[f.input.name, g.input.name]]);
  for (const [nf, ng] of align.pairs) m.set(nf.output, ng.output);
  return m;
}
