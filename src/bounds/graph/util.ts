/** Kernels shared by the bound rules: outward widening of tensors, linear maps by their own forward kernels. */
import type { GraphNode, Shape } from '../../model/graph/types.ts';
import { opDef } from '../../model/graph/registry.ts';
import { broadcastIndex, sameShape, size } from '../../model/graph/shape.ts';
import { widenHi, widenLo } from '../round.ts';
import type { BackResult, Itv, ViewBase } from './types.ts';

type Fwd = (n: GraphNode, x: readonly Float64Array[], s: readonly Shape[], o: Shape, b: number) => Float64Array;

/** The node's own forward kernel on a batch of `batch` inputs laid out [batch, ...shape]. */
export function runForward(node: GraphNode, xs: readonly Float64Array[], inShapes: readonly Shape[], outShape: Shape, batch = 1): Float64Array {
  return (opDef(node.op).forward as Fwd)(node, xs, inShapes, outShape, batch);
}

export function absMax(lo: Float64Array, hi: Float64Array): Float64Array {
  const m = new Float64Array(lo.length);
  for (let i = 0; i < m.length; i++) m[i] = Math.max(Math.abs(lo[i]), Math.abs(hi[i]));
  return m;
}

/** An interval whose values are exact (no rounding was done): mag is max |value|. */
export function exactItv(lo: Float64Array, hi: Float64Array): Itv {
  return { lo, hi, mag: absMax(lo, hi) };
}

/** lo / hi computed with rounding of terms of magnitude `mag` (per element): widened outward. */
export function widened(lo: Float64Array, hi: Float64Array, mag: Float64Array): Itv {
  const l = new Float64Array(lo.length);
  const h = new Float64Array(lo.length);
  const m = new Float64Array(lo.length);
  for (let i = 0; i < l.length; i++) {
    l[i] = widenLo(lo[i], mag[i]);
    h[i] = widenHi(hi[i], mag[i]);
    m[i] = Math.max(mag[i], Math.abs(l[i]), Math.abs(h[i]));
  }
  return { lo: l, hi: h, mag: m };
}

/** Elementwise monotone (non-decreasing) f computed within a few ulps: endpoints mapped, widened relatively. */
export function monotoneItv(x: Itv, f: (v: number) => number): Itv {
  const lo = x.lo.map(f);
  const hi = x.hi.map(f);
  const mag = new Float64Array(lo.length);
  for (let i = 0; i < mag.length; i++) mag[i] = x.mag[i] + Math.max(Math.abs(lo[i]), Math.abs(hi[i]));
  return widened(lo, hi, mag);
}

/**
 * Interval of a linear op y = L(x) + b by centre and radius: y_c = L(c) + b, y_r = |L|(r), rounded within REL of
 * |L|(|x|) + |b| (the terms). `absNode` is the node with |weights| and zero bias.
 */
export function linearItv(v: ViewBase, absNode: GraphNode): Itv {
  const x = v.ins[0];
  const n = x.lo.length;
  const c = new Float64Array(n);
  const rm = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    c[i] = 0.5 * x.lo[i] + 0.5 * x.hi[i];
    rm[i] = 0.5 * x.hi[i] - 0.5 * x.lo[i];
    rm[n + i] = x.mag[i];
  }
  const yc = runForward(v.node, [c], v.inShapes, v.outShape);
  const abs = runForward(absNode, [rm], v.inShapes, v.outShape, 2);
  const m = yc.length;
  const lo = new Float64Array(m);
  const hi = new Float64Array(m);
  const mag = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    lo[i] = yc[i] - abs[i];
    hi[i] = yc[i] + abs[i];
    // |b| <= |y_c| + |L|(|c|), so this covers the terms |L|(|x|) + |b| without knowing b
    mag[i] = 2 * abs[m + i] + Math.abs(yc[i]) + abs[i];
  }
  return widened(lo, hi, mag);
}

export const absTensor = (t: { shape: Shape; data: Float64Array }): { shape: Shape; data: Float64Array } => ({ shape: t.shape, data: t.data.map(Math.abs) });
export const zeroTensor = (t: { shape: Shape; data: Float64Array }): { shape: Shape; data: Float64Array } => ({ shape: t.shape, data: new Float64Array(t.data.length) });

/** Per row: sum_i |A[s, i]| * mag[i] (the rounding terms of passing A through a linear node). */
export function magDot(A: Float64Array, S: number, mag: Float64Array): Float64Array {
  const n = mag.length;
  const r = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let t = 0;
    for (let i = 0, o = s * n; i < n; i++) t += Math.abs(A[o + i]) * mag[i];
    r[s] = t;
  }
  return r;
}

/** Per row: sum_i A[s, i] * c[i] and sum_i |A[s, i] c[i]| (a constant term of the output). */
export function rowDot(A: Float64Array, S: number, c: Float64Array): [Float64Array, Float64Array] {
  const n = c.length;
  const d = new Float64Array(S);
  const m = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let t = 0;
    let a = 0;
    for (let i = 0, o = s * n; i < n; i++) {
      const p = A[o + i] * c[i];
      t += p;
      a += Math.abs(p);
    }
    d[s] = t;
    m[s] = a;
  }
  return [d, m];
}

/**
 * A (S rows over a tensor of shape `out`) summed down to a broadcast source of shape `src`: the coefficients of the
 * source's elements. Same shape: A itself.
 */
export function reduceTo(A: Float64Array, S: number, src: Shape, out: Shape): Float64Array {
  if (sameShape(src, out)) return A;
  const idx = broadcastIndex(src, out);
  const n = idx.length;
  const k = size(src);
  const r = new Float64Array(S * k);
  for (let s = 0; s < S; s++) for (let e = 0; e < n; e++) r[s * k + idx[e]] += A[s * n + e];
  return r;
}

/** A result for a linear node: its inputs' coefficients, the constant term per row, and the rounding magnitude. */
export function linearResult(ins: (Float64Array | null)[], bias: Float64Array, A: Float64Array, S: number, outMag: Float64Array): BackResult {
  return { ins, bias, mag: magDot(A, S, outMag) };
}
