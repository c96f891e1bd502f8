/**
 * The structural part of an exact prune's check when constant channels were folded into biases: g must be
 * removeChannels(f, removed, consts) node for node, bit for bit, except the folded biases, each of which must be a
 * rounding (to g's precision) of the exact folded value (its interval: fold-constants.ts). Then g is the exactly
 * folded network with those biases moved by at most their distance to the exact value, and perturb.ts bounds what
 * that does to the outputs: |f - g| <= bound on the domain, given that the constants hold there (the census's facts).
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { graphDifference } from '../../model/graph/compare.ts';
import { quote } from '../../errors.ts';
import { linksOf } from './channel-links.ts';
import { droppedWith, removableChannels, removeChannels, type ChannelSets } from './channels.ts';
import { exact, isZero, type ConstSets, type Interval } from './constants.ts';
import { foldedBias } from './fold-constants.ts';
import { missingFrom } from './dead.ts';
import { perturbationBound, type ParamError } from './perturb.ts';
import { dropNodes } from './linear-relu.ts';
import { foldableBatchNorms, foldBatchNorms, foldedParams } from './bn-fold.ts';
import { selectAxis } from './channel-rewrite.ts';

export interface FoldPlan {
  problem?: string;
  /** batchnorm nodes folded into the conv or dense before them */
  batchnorms: number;
  /** output channels whose bias took constant terms */
  biases: number;
  /** removed channels that are constant (not zero) and read by a reducer that took them into its bias */
  constants: number;
  /** the proved largest |f - g| the folded biases' rounding can make (0 when nothing was folded) */
  bound: number;
}

/** How far a stored value may be from the exact one it rounds: one unit in the last place of the precision, with
 * room to spare (a rounding to nearest is within half of one). */
function roundingRoom(iv: Interval, precision: 'float32' | 'float64'): number {
  const m = Math.max(Math.abs(iv.lo), Math.abs(iv.hi));
  return precision === 'float32' ? m * 2 ** -23 + 2 ** -140 : m * 2 ** -52 + 2 ** -1070;
}

/** removed's channels that are constant and not zero, with their intervals (the others are taken as zero). */
function constantsAmong(removed: ChannelSets, consts: ConstSets): Map<string, Map<number, Interval>> {
  const out = new Map<string, Map<number, Interval>>();
  for (const [t, chs] of removed) {
    for (const c of chs) {
      const iv = consts.get(t)?.get(c);
      if (!iv || isZero(iv)) continue;
      if (!out.has(t)) out.set(t, new Map());
      out.get(t)!.set(c, iv);
    }
  }
  return out;
}

type Producer = Extract<GraphNode, { op: 'conv' | 'dense' }>;
type BatchNorm = Extract<GraphNode, { op: 'batchnorm' }>;

/** Intervals holding a producer's exact parameters as g should store them (its kept output channels): the bias
 * when constants were folded into it; weight and bias when a batchnorm was. */
interface Exact {
  weight?: { lo: Float64Array; hi: Float64Array };
  bias: Interval[];
}

/** The exact parameters of every node whose stored ones are roundings: f's reducers with constant terms folded
 * (in `expected0`, f after the removal, by name), and the producers of the folded batchnorms `bns`. */
function exactParams(f: Graph, expected0: Graph, dropped: ChannelSets, k: ConstSets, bns: ReadonlyMap<string, BatchNorm>): Map<string, Exact> {
  const after = new Map(expected0.nodes.map((n) => [n.name, n]));
  const out = new Map<string, Exact>();
  for (const n of f.nodes) {
    if (n.op !== 'conv' && n.op !== 'dense') continue;
    const e0 = after.get(n.name) as Producer;
    const fb = linksOf(f, n).kind === 'reducer' ? foldedBias(n, f.shapes.get(n.inputs[0])!, dropped.get(n.inputs[0]) ?? [], k.get(n.inputs[0])) : null;
    const bn = bns.get(n.name);
    if (!fb && !bn) continue;
    const gone = new Set(dropped.get(n.output) ?? []);
    const bias = fb ? fb.exact.filter((_, j) => !gone.has(j)) : [...e0.params.bias.data].map(exact);
    out.set(n.name, bn ? foldedParams(e0, bn, bias) : { bias });
  }
  return out;
}

/** Each stored value against its exact interval: the distances (each at least the rounding), or why not one. */
function errorsOf(what: string, stored: Float64Array, lo: ArrayLike<number>, hi: ArrayLike<number>, precision: 'float32' | 'float64'): Float64Array | string {
  if (stored.length !== lo.length) return `${what} has ${stored.length} values, not ${lo.length}`;
  const err = new Float64Array(stored.length);
  for (let q = 0; q < stored.length; q++) {
    const room = roundingRoom({ lo: lo[q], hi: hi[q] }, precision);
    if (!(stored[q] >= lo[q] - room && stored[q] <= hi[q] + room)) return `${what}[${q}] is ${stored[q]}, not the folded value in [${lo[q]}, ${hi[q]}] rounded to ${precision}`;
    err[q] = Math.max(stored[q] - lo[q], hi[q] - stored[q], 0) * (1 + 1e-12) + 2 ** -1070;
  }
  return err;
}

/** per element of f's tensor t (one sample), bounds of its value on the domain */
export type TensorBoundsOf = (t: string) => { lo: Float64Array; hi: Float64Array } | undefined;

/** A per-element array of f's tensor t restricted to the channels g keeps (those `dropped` does not name). */
function kept(f: Graph, t: string, dropped: ChannelSets, v: Float64Array): Float64Array {
  const s = f.shapes.get(t)!;
  const gone = new Set(dropped.get(t) ?? []);
  const keep = Array.from({ length: s[0] }, (_, c) => c).filter((c) => !gone.has(c));
  return selectAxis({ shape: s, data: v }, 0, gone.size ? keep : null).data;
}

/** |x| <= this per element of f's tensor t's kept channels (Infinity where no bound is known). */
function keptMagnitude(f: Graph, t: string, dropped: ChannelSets, boundsOf: TensorBoundsOf): Float64Array {
  const b = boundsOf(t);
  const m = b ? b.lo.map((l, i) => Math.max(Math.abs(l), Math.abs(b.hi[i]))) : new Float64Array(size(f.shapes.get(t)!)).fill(Infinity);
  return kept(f, t, dropped, m);
}

/**
 * Whether g is f without `removed`, with the constant ones folded (consts: f's constant channels, proved), without
 * the relu nodes `linear` (which the caller proves the identity on the domain), and with the batchnorms g lacks
 * folded into their producers. `boundsOf(t)`: bounds of f's tensors on the domain (the folded weights' rounding
 * scales with the inputs; a ReLU dead by a margin stops a perturbation). Each tensor of g is the same-named one of
 * f on its kept channels (a folded producer writes its batchnorm's output; a dropped ReLU's readers read its input).
 */
export function foldPlan(f: Graph, g: Graph, removed: ChannelSets, consts: ConstSets, linear: readonly string[], boundsOf: TensorBoundsOf): FoldPlan {
  const k = constantsAmong(removed, consts);
  const none = { biases: 0, constants: 0, batchnorms: 0, bound: Infinity };
  const zeroPart = new Map([...removed].map(([t, chs]) => [t, chs.filter((c) => !k.get(t)?.has(c))] as const).filter(([, chs]) => chs.length));
  const [notTogether] = missingFrom(removed, removableChannels(f, zeroPart, k));
  if (notTogether) return { ...none, problem: `channel ${notTogether} cannot be removed with the others (a producer or consumer needs it)` };
  const expected0 = dropNodes(removeChannels(f, removed, k), linear);
  const inG = new Set(g.nodes.map((n) => n.name));
  const bnNames = expected0.nodes.filter((n) => n.op === 'batchnorm' && !inG.has(n.name)).map((n) => n.name);
  const can = foldableBatchNorms(expected0);
  const bad = bnNames.find((b) => !can.has(b));
  if (bad) return { ...none, problem: `batchnorm ${quote(bad)} is not in the stored network and cannot be folded into its producer` };
  const bns = new Map(bnNames.map((b) => [can.get(b)!.name, expected0.nodes.find((n) => n.name === b) as BatchNorm]));
  const dropped = droppedWith(f, removed);
  const stored = new Map(g.nodes.map((n) => [n.name, n]));
  const precision = g.precision ?? 'float64';
  const errs = new Map<string, ParamError>();
  // per node, the stored parameters taken as they are once their distance to the exact ones is bounded
  const patched = new Map<string, object>();
  for (const [name, ex] of exactParams(f, expected0, dropped, k, bns)) {
    const s = stored.get(name);
    if (!s || (s.op !== 'conv' && s.op !== 'dense')) return { ...none, problem: `node ${quote(name)} is not in the stored network as a conv or dense` };
    const eb = errorsOf(`node ${quote(name)} bias`, s.params.bias.data, ex.bias.map((i) => i.lo), ex.bias.map((i) => i.hi), precision);
    if (typeof eb === 'string') return { ...none, problem: eb };
    const ew = ex.weight ? errorsOf(`node ${quote(name)} weight`, s.params.weight.data, ex.weight.lo, ex.weight.hi, precision) : null;
    if (typeof ew === 'string') return { ...none, problem: ew };
    errs.set(name, { bias: eb, ...(ew ? { weight: { err: ew, inputMag: keptMagnitude(f, s.inputs[0], dropped, boundsOf) } } : {}) });
    patched.set(name, ex.weight ? { weight: s.params.weight, bias: s.params.bias } : { bias: s.params.bias });
  }
  const expected = foldBatchNorms(expected0, bnNames);
  const withStored = { ...expected, nodes: expected.nodes.map((n) => (patched.has(n.name) ? ({ ...n, params: { ...n.params, ...patched.get(n.name) } } as GraphNode) : n)) };
  const diff = graphDifference(withStored, g);
  if (diff) return { ...none, problem: `the stored network is not the original without the named channels${k.size || bnNames.length ? ', with the constants and batchnorms folded' : ''}: ${diff}` };
  const folded = new Set(f.nodes.filter((n) => linksOf(f, n).kind === 'reducer').flatMap((n) => [...(k.get(n.inputs[0])?.keys() ?? [])].map((c) => `${n.inputs[0]}[${c}]`)));
  const biases = [...errs.values()].reduce((a, e) => a + (e.bias?.length ?? 0), 0);
  const upper = (t: string): Float64Array | undefined => {
    const b = f.shapes.has(t) ? boundsOf(t) : undefined;
    return b && kept(f, t, dropped, b.hi);
  };
  return { biases, constants: folded.size, batchnorms: bnNames.length, bound: perturbationBound(g, errs, upper) };
}
