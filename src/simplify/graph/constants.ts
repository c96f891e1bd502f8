/**
 * Constant channels (issue 27): a channel whose value is one number c at every position, for every x of the domain,
 * proved structurally from the zero channels (the census's facts): a conv / dense output whose filter or row is zero
 * on every input channel that is not itself zero or constant is its bias plus the constant inputs' terms (a conv
 * only without padding: with padding a border position sees zeros, and the channel is not uniform); then through
 * the channel-wise nodes (relu, batchnorm, pooling, aligned add / sub / mul, concat, reshape). c is carried as an
 * interval [lo, hi] that contains it, widened outward (bounds/round.ts), so a fold into a bias (channel-rewrite.ts)
 * knows how far the stored bias may be from the exact one.
 */
import type { Graph, GraphNode, Shape } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { widenHi, widenLo } from '../../bounds/round.ts';
import { channelsOf, linksOf, type NodeLinks } from './channel-links.ts';
import { absorbsConstants } from './channel-fixpoint.ts';

/** encloses the one value of a constant channel */
export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/** per tensor, per channel: its constant value's interval (zero channels are [0, 0]) */
export type ConstSets = ReadonlyMap<string, ReadonlyMap<number, Interval>>;

const ZERO: Interval = { lo: 0, hi: 0 };
export const exact = (v: number): Interval => ({ lo: v, hi: v });
export const isZero = (c: Interval): boolean => c.lo === 0 && c.hi === 0;

/** s * c + t, widened outward. */
function affineOf(c: Interval, s: number, t: number): Interval {
  if (s === 0) return exact(t);
  const a = s * c.lo + t;
  const b = s * c.hi + t;
  const mag = Math.abs(s) * Math.max(Math.abs(c.lo), Math.abs(c.hi)) + Math.abs(t);
  return { lo: widenLo(Math.min(a, b), mag), hi: widenHi(Math.max(a, b), mag) };
}

export function sum(a: Interval, b: Interval, sign: 1 | -1): Interval {
  const lo = sign > 0 ? a.lo + b.lo : a.lo - b.hi;
  const hi = sign > 0 ? a.hi + b.hi : a.hi - b.lo;
  const mag = Math.max(Math.abs(a.lo), Math.abs(a.hi)) + Math.max(Math.abs(b.lo), Math.abs(b.hi));
  return mag === 0 ? ZERO : { lo: widenLo(lo, mag), hi: widenHi(hi, mag) };
}

function product(a: Interval, b: Interval): Interval {
  if (isZero(a) || isZero(b)) return ZERO;
  const p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
  const mag = Math.max(...p.map(Math.abs));
  return { lo: widenLo(Math.min(...p), mag), hi: widenHi(Math.max(...p), mag) };
}

/** c times a weight sum (ws.s, of magnitude ws.mag), widened by the sum's own rounding as well as the product's. */
export function weighted(c: Interval, ws: { s: number; mag: number }): Interval {
  const a = ws.s * c.lo;
  const b = ws.s * c.hi;
  const mag = ws.mag * Math.max(Math.abs(c.lo), Math.abs(c.hi));
  return { lo: widenLo(Math.min(a, b), mag), hi: widenHi(Math.max(a, b), mag) };
}

/** A reducer's weights for output j and input channel k: their sum (the term of a uniform input c is c times it)
 * and the sum of their magnitudes, or null when all are zero. */
export function weightSum(n: GraphNode, inShape: Shape, j: number, k: number): { s: number; mag: number } | null {
  if (n.op !== 'conv' && n.op !== 'dense') throw new Error(`internal: weightSum of a ${n.op}`);
  const C = channelsOf(inShape);
  const w = n.params.weight.data;
  const block = w.length / (n.params.bias.data.length * C);
  let s = 0;
  let mag = 0;
  for (let e = (j * C + k) * block; e < (j * C + k + 1) * block; e++) {
    s += w[e];
    mag += Math.abs(w[e]);
  }
  return mag === 0 ? null : { s, mag };
}

/** Output channel j of a reducer: constant when each input channel it weighs is zero, or constant and uniform
 * terms are possible (no padding). */
function reducerConstant(n: GraphNode, inShape: Shape, j: number, inC: ReadonlyMap<number, Interval> | undefined): Interval | null {
  if (n.op !== 'conv' && n.op !== 'dense') return null;
  let acc = exact(n.params.bias.data[j]);
  for (let k = 0; k < channelsOf(inShape); k++) {
    const ws = weightSum(n, inShape, j, k);
    if (!ws) continue;
    const c = inC?.get(k);
    if (!c) return null;
    if (isZero(c)) continue;
    // with padding a border position sees zeros: the term is not uniform
    if (!absorbsConstants(n)) return null;
    acc = sum(acc, weighted(c, ws), 1);
  }
  return acc;
}

/** The one value of several channels merged into one (a reshape or a spatial concat): only when all are the same
 * exact number. */
function merged(cs: Array<Interval | undefined>): Interval | null {
  const [a] = cs;
  if (!a || !cs.every((c) => c && c.lo === c.hi && c.lo === a.lo && a.lo === a.hi)) return null;
  return a;
}

/** Output channel j of a channel-wise (map) node from the constants of the channels it reads. */
function mapConstant(g: Graph, n: GraphNode, L: Extract<NodeLinks, { kind: 'map' }>, j: number, known: ConstSets): Interval | null {
  const cs = L.sources[j].map(([k, i]) => known.get(n.inputs[k])?.get(i));
  const [c] = cs;
  switch (n.op) {
    case 'relu': return c ? { lo: Math.max(c.lo, 0), hi: Math.max(c.hi, 0) } : null;
    case 'clip': return c ? { lo: Math.min(Math.max(c.lo, n.attrs.min), n.attrs.max), hi: Math.min(Math.max(c.hi, n.attrs.min), n.attrs.max) } : null;
    case 'batchnorm': return c ? affineOf(c, n.params.scale.data[j], n.params.shift.data[j]) : null;
    // a MaxPool's padding is ignored; an AveragePool counting padded zeros is not uniform at the border
    case 'maxpool': case 'globalaveragepool': return c ?? null;
    case 'averagepool': return c && (!n.attrs.countIncludePad || n.attrs.pads.every((p) => p === 0) || isZero(c)) ? c : null;
    case 'add': case 'sub': case 'mul':
      if (!cs.every((x) => x) || cs.length !== 2) return null;
      return n.op === 'mul' ? product(cs[0]!, cs[1]!) : sum(cs[0]!, cs[1]!, n.op === 'add' ? 1 : -1);
    case 'transpose': return c ?? null;
    case 'concat': return n.attrs.axis === 0 ? (c ?? null) : merged(cs);
    case 'reshape': return cs.length === 1 ? (c ?? null) : merged(cs);
    case 'pad': {
      if (cs.length === 0) return exact(n.attrs.value);
      const rank = g.shapes.get(n.inputs[0])!.length;
      const spatial = n.attrs.pads.some((p, a) => p !== 0 && a % rank !== 0);
      return c && (!spatial || (c.lo === c.hi && c.lo === n.attrs.value)) ? c : null;
    }
    default: return null;
  }
}

/** Every channel of g proved constant on the domain, given its zero channels (which are among them, as [0, 0]). */
export function constantChannels(g: Graph, zero: ReadonlyMap<string, readonly number[]>): Map<string, Map<number, Interval>> {
  const known = new Map<string, Map<number, Interval>>();
  const put = (t: string, c: number, v: Interval): void => {
    if (!known.has(t)) known.set(t, new Map());
    known.get(t)!.set(c, v);
  };
  for (const [t, chs] of zero) for (const c of chs) put(t, c, ZERO);
  for (const n of g.nodes) {
    const out = g.shapes.get(n.output)!;
    if (out.length === 0 || size(out) === 0) continue;
    const L = linksOf(g, n);
    for (let j = 0; j < channelsOf(out); j++) {
      if (known.get(n.output)?.has(j)) continue;
      const v = L.kind === 'reducer' ? reducerConstant(n, g.shapes.get(n.inputs[0])!, j, known.get(n.inputs[0])) : L.kind === 'map' ? mapConstant(g, n, L, j, known) : null;
      if (v && Number.isFinite(v.lo) && Number.isFinite(v.hi)) put(n.output, j, v);
    }
  }
  return known;
}

/** The constant channels (those not zero only, when nonZero), as channel sets. */
export function constantSets(c: ConstSets, nonZero = false): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [t, m] of c) {
    const chs = [...m].filter(([, v]) => !nonZero || !isZero(v)).map(([k]) => k).sort((a, b) => a - b);
    if (chs.length) out.set(t, chs);
  }
  return out;
}
