/**
 * The class-preserving search's candidates: live channels of killable ReLUs (kill.ts) whose kill alone lets a
 * channel go (a channel a residual Add carries on with a live other branch would be killed for nothing), ordered
 * by a cheap score, smallest first: the channel's largest sampled activation times the norm of the weights that
 * read it. Killing the channel moves each pre-activation it feeds by at most activation x weight per term, so the
 * product estimates how far the kill can move the scores; channels that barely fire, or are barely read, go first.
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import { forwardAll } from '../../model/graph/forward.ts';
import { size } from '../../model/graph/shape.ts';
import { netOf, type Net } from './channel-fixpoint.ts';
import { removableChannels, zeroChannels } from './channels.ts';
import { channelCount } from './dead.ts';
import type { KillSites } from './kill.ts';

export interface Candidate {
  /** the ReLU node */
  node: string;
  channel: number;
  score: number;
}

/** Points evaluated per forward pass when sampling activations. */
const BATCH = 16;

/** Squared norm of the weights of reducer n (conv with group 1, or dense on a 1-D input) reading input channel k. */
function sliceNormSq(g: Graph, n: GraphNode, k: number): number {
  if (n.op !== 'conv' && n.op !== 'dense') throw new Error(`internal: candidate score: ${n.op} is not a reducer`);
  const w = n.params.weight;
  const O = w.shape[0];
  const per = n.op === 'conv' ? size(w.shape.slice(2)) : 1;
  const C = n.op === 'conv' ? w.shape[1] : size(g.shapes.get(n.inputs[0])!);
  let sq = 0;
  for (let o = 0; o < O; o++) for (let p = 0; p < per; p++) sq += w.data[(o * C + k) * per + p] ** 2;
  return sq;
}

/** The norm of every weight reading channel c of tensor t, through the channel-wise nodes after it (the graph's
 * output counts 1 per channel); Infinity when an opaque node reads it (its influence is not one slice). */
function readerNorm(net: Net, t: string, c: number): number {
  let sq = 0;
  const seen = new Set<string>();
  const work: Array<[string, number]> = [[t, c]];
  while (work.length) {
    const [u, k] = work.pop()!;
    if (seen.has(`${k}:${u}`)) continue;
    seen.add(`${k}:${u}`);
    if (u === net.g.output.name) sq += 1;
    for (const [i, slot] of net.consumers.get(u) ?? []) {
      const L = net.links[i];
      if (L.kind === 'opaque') return Infinity;
      if (L.kind === 'reducer') sq += sliceNormSq(net.g, net.g.nodes[i], k);
      else for (const j of L.targets[slot][k]) work.push([net.g.nodes[i].output, j]);
    }
  }
  return Math.sqrt(sq);
}

/** Per ReLU output tensor, the largest value of each channel at any position of any point. */
function maxActivations(g: Graph, tensors: readonly string[], points: readonly Float64Array[]): Map<string, Float64Array> {
  const out = new Map(tensors.map((t) => [t, new Float64Array(g.shapes.get(t)![0])]));
  const n = size(g.input.shape);
  for (let p = 0; p < points.length; p += BATCH) {
    const chunk = points.slice(p, p + BATCH);
    const x = new Float64Array(chunk.length * n);
    chunk.forEach((pt, j) => x.set(pt, j * n));
    const vals = forwardAll(g, x, chunk.length);
    for (const t of tensors) {
      const v = vals.get(t)!;
      const best = out.get(t)!;
      const block = size(g.shapes.get(t)!) / best.length;
      for (let i = 0; i < v.length; i++) {
        const ch = Math.floor(i / block) % best.length;
        if (v[i] > best[ch]) best[ch] = v[i];
      }
    }
  }
  return out;
}

/** The candidates, smallest score first (ties: graph order, then channel). */
export function candidatesOf(f: Graph, dead: ReadonlyMap<string, readonly number[]>, sites: KillSites, points: readonly Float64Array[]): Candidate[] {
  const net = netOf(f);
  const removedWith = (extra: Map<string, number[]>): number => channelCount(removableChannels(f, zeroChannels(f, extra)));
  const before = removedWith(new Map([...dead].map(([k, v]) => [k, [...v]])));
  const relus = f.nodes.filter((n) => sites.killable.has(n.name));
  const acts = maxActivations(f, relus.map((n) => n.output), points.slice(0, 64));
  const out: Candidate[] = [];
  for (const n of relus) {
    const isDead = new Set(dead.get(n.name) ?? []);
    const C = f.shapes.get(n.output)![0];
    for (let ch = 0; ch < C; ch++) {
      if (isDead.has(ch)) continue;
      const facts = new Map([...dead].map(([k, v]) => [k, [...v]]));
      facts.set(n.name, [...isDead, ch].sort((a, b) => a - b));
      if (removedWith(facts) <= before) continue;
      const act = acts.get(n.output)![ch];
      // (a channel never seen above 0 scores 0 whatever reads it: 0 x Infinity would be NaN)
      out.push({ node: n.name, channel: ch, score: act > 0 ? act * readerNorm(net, n.output, ch) : 0 });
    }
  }
  // a stable sort keeps graph order among equal scores
  return out.sort((a, b) => a.score - b.score);
}
