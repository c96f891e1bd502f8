/**
 * The structural part of an exact prune's check when constant channels were folded into biases: g must be
 * removeChannels(f, removed, consts) node for node, bit for bit, except the folded biases, each of which must be a
 * rounding (to g's precision) of the exact folded value (its interval: fold-constants.ts). Then g is the exactly
 * folded network with those biases moved by at most their distance to the exact value, and perturb.ts bounds what
 * that does to the outputs: |f - g| <= bound on the domain, given that the constants hold there (the census's facts).
 */
import type { Graph, GraphNode, Tensor } from '../../model/graph/types.ts';
import { graphDifference } from '../../model/graph/compare.ts';
import { quote } from '../../errors.ts';
import { linksOf } from './channel-links.ts';
import { droppedWith, removableChannels, removeChannels, type ChannelSets } from './channels.ts';
import { isZero, type ConstSets, type Interval } from './constants.ts';
import { foldedBias } from './fold-constants.ts';
import { missingFrom } from './dead.ts';
import { biasPerturbationBound } from './perturb.ts';
import { dropNodes } from './linear-relu.ts';

export interface FoldPlan {
  problem?: string;
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

type Patch = { node: string; bias: Float64Array; err: Float64Array };

/** One reducer's folded bias against g's stored one: the stored values to compare with, and each one's error. */
function patchOf(f: Graph, n: GraphNode, stored: GraphNode | undefined, dropped: ChannelSets, k: ConstSets, precision: 'float32' | 'float64'): Patch | string | null {
  const fb = foldedBias(n, f.shapes.get(n.inputs[0])!, dropped.get(n.inputs[0]) ?? [], k.get(n.inputs[0]));
  if (!fb) return null;
  if (!stored || stored.op !== n.op) return `node ${quote(n.name)} is not in the stored network as a ${n.op}`;
  const s = (stored.params as { bias: Tensor }).bias.data;
  const gone = new Set(dropped.get(n.output) ?? []);
  const kept = fb.exact.filter((_, j) => !gone.has(j));
  if (kept.length !== s.length) return `node ${quote(n.name)} has ${s.length} biases, not ${kept.length}`;
  const err = new Float64Array(s.length);
  for (let q = 0; q < s.length; q++) {
    const iv = kept[q];
    if (!(s[q] >= iv.lo - roundingRoom(iv, precision) && s[q] <= iv.hi + roundingRoom(iv, precision))) {
      return `node ${quote(n.name)} bias[${q}] is ${s[q]}, not the folded value in [${iv.lo}, ${iv.hi}] rounded to ${precision}`;
    }
    err[q] = Math.max(s[q] - iv.lo, iv.hi - s[q], 0) * (1 + 1e-12) + 2 ** -1070;
  }
  return { node: n.name, bias: Float64Array.from(s), err };
}

/** expected with the patched biases put in (its nodes are f's, by name). */
function withBiases(expected: Graph, patches: readonly Patch[]): Graph {
  const by = new Map(patches.map((p) => [p.node, p.bias]));
  const nodes = expected.nodes.map((n) => (by.has(n.name) ? ({ ...n, params: { ...n.params, bias: { shape: [by.get(n.name)!.length], data: by.get(n.name)! } } } as GraphNode) : n));
  return { ...expected, nodes };
}

/** Whether g is f without `removed`, with the constant ones folded (consts: f's constant channels, proved) and
 * without the relu nodes `linear` (which the caller proves the identity on the domain). */
export function foldPlan(f: Graph, g: Graph, removed: ChannelSets, consts: ConstSets, linear: readonly string[] = []): FoldPlan {
  const k = constantsAmong(removed, consts);
  const none = { biases: 0, constants: 0, bound: Infinity };
  const zeroPart = new Map([...removed].map(([t, chs]) => [t, chs.filter((c) => !k.get(t)?.has(c))] as const).filter(([, chs]) => chs.length));
  const [notTogether] = missingFrom(removed, removableChannels(f, zeroPart, k));
  if (notTogether) return { ...none, problem: `channel ${notTogether} cannot be removed with the others (a producer or consumer needs it)` };
  const expected = dropNodes(removeChannels(f, removed, k), linear);
  const dropped = droppedWith(f, removed);
  const stored = new Map(g.nodes.map((n) => [n.name, n]));
  const patches: Patch[] = [];
  for (const n of f.nodes) {
    if (linksOf(f, n).kind !== 'reducer') continue;
    const p = patchOf(f, n, stored.get(n.name), dropped, k, g.precision ?? 'float64');
    if (typeof p === 'string') return { ...none, problem: p };
    if (p) patches.push(p);
  }
  const diff = graphDifference(withBiases(expected, patches), g);
  if (diff) return { ...none, problem: `the stored network is not the original without the named channels${k.size ? ' and with the constant ones folded' : ''}: ${diff}` };
  const folded = new Set(f.nodes.filter((n) => linksOf(f, n).kind === 'reducer').flatMap((n) => [...(k.get(n.inputs[0])?.keys() ?? [])].map((c) => `${n.inputs[0]}[${c}]`)));
  const constants = folded.size;
  const biases = patches.reduce((a, p) => a + p.err.length, 0);
  return { biases, constants, bound: biasPerturbationBound(g, new Map(patches.map((p) => [p.node, p.err]))) };
}
