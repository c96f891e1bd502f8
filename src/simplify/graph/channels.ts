/**
 * Channel removal on graphs (issue 27), pure functions on the graph model called after the phase census:
 * 1. zeroChannels: from ReLU channels proved never active, every tensor channel identically zero on the domain;
 * 2. removableChannels: the zero channels that can go together (channel-fixpoint.ts says when);
 * 3. removeChannels: the smaller graph (channel-rewrite.ts), equal to the original on the domain;
 * 4. channelSummary: counts for a report.
 * A channel is an index on axis 0 of a tensor's per-sample shape; every element of a 1-D tensor is one, so the
 * same code removes dead fully-connected neurons. How nodes relate channels: channel-links.ts.
 */
import type { Graph, GraphNode } from '../../model/graph/types.ts';
import { channelsOf, zeroRule } from './channel-links.ts';
import { addMember, backwardClosure, consistentSubset, countMembers, emptyMembers, has, netOf, type Members, type Net } from './channel-fixpoint.ts';
import { rewriteGraph } from './channel-rewrite.ts';
import { graphParameters } from '../../model/graph/params.ts';
import { isZero, type ConstSets } from './constants.ts';

/** per tensor name: channel indices, ascending, no repeats; a tensor absent = none */
export type ChannelSets = ReadonlyMap<string, readonly number[]>;

const RELU_LIKE = new Set(['relu', 'leakyrelu', 'prelu', 'clip']);

/** The first of `chs` that breaks "ascending integer indices below count, once each", or undefined. */
export const notAscendingBelow = (chs: readonly number[], count: number): number | undefined =>
  chs.find((c, i) => !Number.isInteger(c) || c < 0 || c >= count || (i > 0 && c <= chs[i - 1]));

function checkedIndices(what: string, chs: readonly number[], count: number): void {
  if (notAscendingBelow(chs, count) !== undefined) throw new Error(`internal: ${what}: channels [${chs.join(',')}] are not ascending indices below ${count}`);
}

function toMembers(net: Net, sets: ChannelSets, what: string): Members {
  const m = emptyMembers();
  for (const [t, chs] of sets) {
    const s = net.g.shapes.get(t);
    if (!s) throw new Error(`internal: ${what}: no tensor ${t}`);
    checkedIndices(`${what} of ${t}`, chs, channelsOf(s));
    for (const c of chs) addMember(net, m, t, c);
  }
  return m;
}

function toSets(m: Members): ChannelSets {
  const out = new Map<string, number[]>();
  for (const [t, f] of m) {
    const chs: number[] = [];
    f.forEach((v, c) => v && chs.push(c));
    if (chs.length) out.set(t, chs);
  }
  return out;
}

/** Per node, its dead output channels that are zero: relu, and clip with min 0 (never above it: the output is 0). */
function deadZeros(g: Graph, dead: ReadonlyMap<string, readonly number[]>): Map<string, Set<number>> {
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const out = new Map<string, Set<number>>();
  for (const [name, chs] of dead) {
    const n = byName.get(name);
    if (!n || !RELU_LIKE.has(n.op)) throw new Error(`internal: dead channels given for ${name}, not a ReLU-like node`);
    checkedIndices(`dead channels of ${name}`, chs, channelsOf(g.shapes.get(n.inputs[0])!));
    // leakyrelu / prelu below the kink give alpha * x, not 0; a clip with another lower bound gives that bound
    if (n.op === 'relu' || (n.op === 'clip' && n.attrs.min === 0)) out.set(name, new Set(chs));
  }
  return out;
}

/** Whether output channel j of node n is zero, from its inputs' zero channels (a map node only). */
function zeroFromInputs(net: Net, zero: Members, i: number, n: GraphNode, j: number): boolean {
  const L = net.links[i];
  if (L.kind !== 'map') return false;
  const rule = zeroRule(n, j);
  const isZero = ([k, c]: readonly [number, number]): boolean => has(zero, n.inputs[k], c);
  // 'any' is mul: 0 times a finite value (every value is finite on a bounded domain)
  return rule === 'all' ? L.sources[j].every(isZero) : rule === 'any' ? L.sources[j].some(isZero) : false;
}

/** dead: per ReLU-like node name, the channels of its INPUT proved never active (never above the kink). Returns the
 * channels of every tensor that are identically zero on the domain (the dead ReLU channels, then through the
 * zero-preserving map nodes: see zeroRule). Exact only as far as the census's proofs are. */
export function zeroChannels(g: Graph, dead: ReadonlyMap<string, readonly number[]>): ChannelSets {
  const net = netOf(g);
  const deadOut = deadZeros(g, dead);
  const zero = emptyMembers();
  g.nodes.forEach((n, i) => {
    const chs = deadOut.get(n.name);
    const C = channelsOf(g.shapes.get(n.output)!);
    for (let j = 0; j < C; j++) if (chs?.has(j) || zeroFromInputs(net, zero, i, n, j)) addMember(net, zero, n.output, j);
  });
  return toSets(zero);
}

/** The channels of `sets` split into those `consts` says are non-zero constants and the rest (taken as zero). */
function splitKnown(net: Net, m: Members, consts: ConstSets): { zero: Members; consts: Members } {
  const zero = emptyMembers();
  const k = emptyMembers();
  for (const [t, f] of m) {
    f.forEach((v, c) => {
      if (!v) return;
      const iv = consts.get(t)?.get(c);
      addMember(net, iv && !isZero(iv) ? k : zero, t, c);
    });
  }
  return { zero, consts: k };
}

/** The largest subset of `zero` (and of the constant channels of `consts`, which constants.ts proves from `zero`;
 * those of value 0 are zero channels too) that can be removed together (a fixed point that only shrinks). Removing a zero channel also removes the
 * channels only it reads (a dead ReLU's input, a BatchNorm's, its conv's filter): those are not zero and are not
 * named in the result; removeChannels finds them again. */
export function removableChannels(g: Graph, zero: ChannelSets, consts: ConstSets = new Map()): ChannelSets {
  const net = netOf(g);
  const z = toMembers(net, zero, 'removableChannels');
  for (const [t, m] of consts) for (const c of m.keys()) addMember(net, z, t, c);
  const d = consistentSubset(net, backwardClosure(net, z), splitKnown(net, z, consts));
  for (const [t, f] of d) f.forEach((v, c) => v && !has(z, t, c) && (f[c] = 0));
  return toSets(d);
}

/** g with the channels `removed` (zero or constant ones, as removableChannels gives) and those only they read
 * removed, the constant ones folded into their consumers' biases; every name, the opset and precision kept. Throws
 * Error('internal: ...') when `removed` is not a fixed point of removableChannels. Whether the channels are zero or
 * constant it cannot know: that is the census's proof (and constants.ts's from it). */
export function removeChannels(g: Graph, removed: ChannelSets, consts: ConstSets = new Map()): Graph {
  const net = netOf(g);
  const z = toMembers(net, removed, 'removeChannels');
  const d = backwardClosure(net, z);
  const total = countMembers(d);
  if (countMembers(consistentSubset(net, d, splitKnown(net, z, consts))) !== total) {
    const bad = [...d.keys()].find((t) => t === g.input.name || t === g.output.name);
    throw new Error(`internal: removeChannels: the channels cannot go together${bad ? ` (${bad} is the graph's input or output)` : ' (a producer or consumer needs one)'}`);
  }
  return total === 0 ? g : rewriteGraph(net, d, consts);
}

/** `removed` with the channels only they read (as removeChannels drops them), per tensor. */
export function droppedWith(g: Graph, removed: ChannelSets): ChannelSets {
  const net = netOf(g);
  return toSets(backwardClosure(net, toMembers(net, removed, 'droppedWith')));
}

export interface ChannelSummary {
  nodes: Array<{ node: string; op: string; before: number; after: number }>;
  parametersBefore: number;
  parametersAfter: number;
}

/** Counts for a report: per conv / dense node its output channels before and after; parameters before/after. */
export function channelSummary(before: Graph, after: Graph): ChannelSummary {
  const later = new Map(after.nodes.map((n) => [n.name, n]));
  const nodes: ChannelSummary['nodes'] = [];
  for (const n of before.nodes) {
    if (n.op !== 'conv' && n.op !== 'dense') continue;
    const m = later.get(n.name);
    if (!m || m.op !== n.op) throw new Error(`internal: channelSummary: node ${n.name} is not in the pruned graph`);
    nodes.push({ node: n.name, op: n.op, before: n.params.bias.data.length, after: m.params.bias.data.length });
  }
  return { nodes, parametersBefore: graphParameters(before), parametersAfter: graphParameters(after) };
}
