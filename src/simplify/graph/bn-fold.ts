/**
 * BatchNormalization folded into the conv (or dense on a 1-D input) before it, when that producer's output is read
 * by the batchnorm alone: y = s (W x + b) + t = (s W) x + (s b + t), per output channel, exact in real arithmetic
 * whatever the conv's padding (a padded zero is still 0 after scaling). The batchnorm's parameters go (2 C of the
 * function, 4 C in the file) and so does its node; the folded producer takes the batchnorm's output name, so every
 * reader and the graph output keep theirs. The stored weights are roundings of s W and s b + t: foldedParams says
 * how far from the exact values they may be (fold-check.ts proves what that does to the outputs).
 */
import type { Graph, GraphNode, Tensor } from '../../model/graph/types.ts';
import { buildGraph } from '../../model/graph/build.ts';
import { size } from '../../model/graph/shape.ts';
import { widenHi, widenLo } from '../../bounds/round.ts';
import type { Interval } from './constants.ts';

type Producer = Extract<GraphNode, { op: 'conv' | 'dense' }>;
type BatchNorm = Extract<GraphNode, { op: 'batchnorm' }>;

/** The batchnorm nodes of g that can be folded, each with its producer. */
export function foldableBatchNorms(g: Graph): Map<string, Producer> {
  const producer = new Map(g.nodes.map((n) => [n.output, n]));
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const t of n.inputs) readers.set(t, (readers.get(t) ?? 0) + 1);
  const out = new Map<string, Producer>();
  for (const n of g.nodes) {
    if (n.op !== 'batchnorm') continue;
    const p = producer.get(n.inputs[0]);
    if (!p || readers.get(p.output) !== 1 || p.output === g.output.name) continue;
    if (p.op === 'conv' || (p.op === 'dense' && g.shapes.get(p.inputs[0])!.length === 1)) out.set(n.name, p);
  }
  return out;
}

/** Per output channel o: the block of weights that channel owns (conv [O, ...], dense [O, in]). */
const blockOf = (w: Tensor): number => size(w.shape) / w.shape[0];

/** The folded producer: weights s W, bias s b + t (float64), named as the producer, writing bn's output. */
function folded(p: Producer, bn: BatchNorm): Producer {
  const s = bn.params.scale.data;
  const t = bn.params.shift.data;
  const k = blockOf(p.params.weight);
  const weight = { shape: p.params.weight.shape, data: p.params.weight.data.map((w, e) => w * s[Math.floor(e / k)]) };
  const bias = { shape: p.params.bias.shape, data: p.params.bias.data.map((b, o) => b * s[o] + t[o]) };
  return { ...p, output: bn.output, params: { weight, bias } } as Producer;
}

/** g with the named batchnorms (each foldable) folded into their producers. */
export function foldBatchNorms(g: Graph, names: readonly string[]): Graph {
  if (names.length === 0) return g;
  const can = foldableBatchNorms(g);
  const into = new Map<string, BatchNorm>();
  for (const name of names) {
    const n = g.nodes.find((x) => x.name === name);
    if (!n || n.op !== 'batchnorm' || !can.has(name)) throw new Error(`internal: foldBatchNorms: ${name} is not a foldable batchnorm`);
    into.set(can.get(name)!.name, n);
  }
  const nodes = g.nodes.filter((n) => !names.includes(n.name)).map((n) => (into.has(n.name) ? folded(n as Producer, into.get(n.name)!) : n));
  return { ...g, ...buildGraph(g.input, nodes, g.output.name, 'foldBatchNorms', g.opset) };
}

/** Intervals holding the exact folded weights and biases of producer p with batchnorm bn, given an interval for
 * each of p's biases (its own value, or a constant fold's: fold-constants.ts). */
export function foldedParams(p: Producer, bn: BatchNorm, biases: readonly Interval[]): { weight: { lo: Float64Array; hi: Float64Array }; bias: Interval[] } {
  const s = bn.params.scale.data;
  const t = bn.params.shift.data;
  const k = blockOf(p.params.weight);
  const w = p.params.weight.data;
  const lo = new Float64Array(w.length);
  const hi = new Float64Array(w.length);
  for (let e = 0; e < w.length; e++) {
    const v = w[e] * s[Math.floor(e / k)];
    lo[e] = widenLo(v, 0);
    hi[e] = widenHi(v, 0);
  }
  const bias = biases.map((iv, o) => {
    const a = s[o] * iv.lo + t[o];
    const b = s[o] * iv.hi + t[o];
    const mag = Math.abs(s[o]) * Math.max(Math.abs(iv.lo), Math.abs(iv.hi)) + Math.abs(t[o]);
    return { lo: widenLo(Math.min(a, b), mag), hi: widenHi(Math.max(a, b), mag) };
  });
  return { weight: { lo, hi }, bias };
}
