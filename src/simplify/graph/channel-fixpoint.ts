/**
 * Which channels can be dropped together. A set D of (tensor, channel) is consistent when every member
 * - is not a channel of the graph input or output;
 * - can be dropped by its producer: a reducer always (its filter / row goes), a map node only when every input
 *   channel it reads is in D too (and it reads some: a pad's added channel stays), an opaque node never;
 * - can be dropped by each consumer: a reducer only when the channel is zero (its slice / columns go, the skipped
 *   terms are w * 0) or constant and the reducer can take it into its bias (a dense, or a conv without padding:
 *   constants.ts), a map node only when every output channel reading it is in D, an opaque node never;
 * and no tensor loses all its channels. Then every kept channel is computed from kept channels as before, plus
 * skipped zero terms: the function is unchanged, and bit for bit in forward evaluation (s + 0 === s).
 * Channels in D that are not zero are read only by dropped channels (e.g. a conv's output before a dead ReLU).
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import { channelsOf, linksOf, type NodeLinks } from './channel-links.ts';

/** A reducer that can take a constant input channel into its bias: every output position sees the channel's value
 * at every tap (a dense on a 1-D input; a conv without padding). */
export const absorbsConstants = (n: GraphNode): boolean => n.op === 'dense' || (n.op === 'conv' && n.attrs.pads.every((p) => p === 0));

/** per tensor, a 0/1 flag per channel */
export type Members = Map<string, Uint8Array>;

export interface Net {
  readonly g: Graph;
  readonly links: readonly NodeLinks[];
  /** tensor -> index of the node making it (the graph input has none) */
  readonly producer: ReadonlyMap<string, number>;
  /** tensor -> [node index, input index] of each use */
  readonly consumers: ReadonlyMap<string, readonly (readonly [number, number])[]>;
}

export function netOf(g: Graph): Net {
  const producer = new Map<string, number>();
  const consumers = new Map<string, [number, number][]>();
  g.nodes.forEach((n, i) => {
    producer.set(n.output, i);
    n.inputs.forEach((t, k) => {
      if (!consumers.has(t)) consumers.set(t, []);
      consumers.get(t)!.push([i, k]);
    });
  });
  return { g, links: g.nodes.map((n) => linksOf(g, n)), producer, consumers };
}

export const emptyMembers = (): Members => new Map();

export function has(m: Members, t: string, c: number): boolean {
  return m.get(t)?.[c] === 1;
}

export function addMember(net: Net, m: Members, t: string, c: number): boolean {
  let flags = m.get(t);
  if (!flags) m.set(t, (flags = new Uint8Array(channelsOf(net.g.shapes.get(t)!))));
  if (flags[c]) return false;
  flags[c] = 1;
  return true;
}

const copyMembers = (m: Members): Members => new Map([...m].map(([t, f]) => [t, f.slice()]));

/** seed with every channel its map producers read, and theirs, up to reducers, opaque nodes and the graph input */
export function backwardClosure(net: Net, seed: Members): Members {
  const out = copyMembers(seed);
  const work: [string, number][] = [];
  for (const [t, f] of seed) f.forEach((v, c) => v && work.push([t, c]));
  while (work.length) {
    const [t, c] = work.pop()!;
    const p = net.producer.get(t);
    const L = p === undefined ? undefined : net.links[p];
    if (L?.kind !== 'map') continue;
    const ins = net.g.nodes[p!].inputs;
    for (const [k, i] of L.sources[c]) if (addMember(net, out, ins[k], i)) work.push([ins[k], i]);
  }
  return out;
}

function producerDrops(net: Net, d: Members, t: string, c: number): boolean {
  const p = net.producer.get(t);
  if (p === undefined) return false;
  const L = net.links[p];
  if (L.kind !== 'map') return L.kind === 'reducer';
  const ins = net.g.nodes[p].inputs;
  return L.sources[c].length > 0 && L.sources[c].every(([k, i]) => has(d, ins[k], i));
}

/** zero: the channels zero on the domain; consts: those constant (not zero) on it, which absorbing reducers fold */
export interface Known {
  zero: Members;
  consts?: Members;
}

function consumersDrop(net: Net, d: Members, known: Known, t: string, c: number): boolean {
  for (const [i, k] of net.consumers.get(t) ?? []) {
    const L = net.links[i];
    if (L.kind === 'opaque') return false;
    if (L.kind === 'reducer' && !has(known.zero, t, c) && !(known.consts && has(known.consts, t, c) && absorbsConstants(net.g.nodes[i]))) return false;
    if (L.kind === 'map' && !L.targets[k][c].every((j) => has(d, net.g.nodes[i].output, j))) return false;
  }
  return true;
}

function violates(net: Net, d: Members, known: Known, t: string, c: number): boolean {
  if (t === net.g.input.name || t === net.g.output.name) return true;
  return !producerDrops(net, d, t, c) || !consumersDrop(net, d, known, t, c);
}

/** The channels whose conditions read (t, c): its producer's sources (consumer rule) and its map consumers' targets. */
function neighbours(net: Net, t: string, c: number): [string, number][] {
  const out: [string, number][] = [];
  const p = net.producer.get(t);
  const L = p === undefined ? undefined : net.links[p];
  if (L?.kind === 'map') for (const [k, i] of L.sources[c]) out.push([net.g.nodes[p!].inputs[k], i]);
  for (const [i, k] of net.consumers.get(t) ?? []) {
    const C = net.links[i];
    if (C.kind === 'map') for (const j of C.targets[k][c]) out.push([net.g.nodes[i].output, j]);
  }
  return out;
}

/** Drops every member violating a condition, and what that exposes, until none does (conditions only get harder). */
function shrink(net: Net, d: Members, known: Known): void {
  const work: [string, number][] = [];
  for (const [t, f] of d) f.forEach((v, c) => v && work.push([t, c]));
  while (work.length) {
    const [t, c] = work.pop()!;
    if (!has(d, t, c) || !violates(net, d, known, t, c)) continue;
    d.get(t)![c] = 0;
    work.push(...neighbours(net, t, c));
  }
}

/**
 * The largest consistent subset of `candidates` (a fixed point that only shrinks), given which channels are zero
 * (and which constant).
 * A tensor left with all its channels keeps its channel 0 (a tensor has at least one), and the shrinking resumes.
 */
export function consistentSubset(net: Net, candidates: Members, known: Known): Members {
  const d = copyMembers(candidates);
  for (;;) {
    shrink(net, d, known);
    const full = [...d].filter(([, f]) => f.every((v) => v === 1));
    if (full.length === 0) return d;
    for (const [, f] of full) f[0] = 0;
  }
}

export const countMembers = (m: Members): number => [...m.values()].reduce((a, f) => a + f.reduce((s, v) => s + v, 0), 0);
