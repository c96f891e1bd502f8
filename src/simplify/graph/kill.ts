/**
 * Forcing live ReLU channels to zero (the class-preserving prune's edit, issue 27): the ReLU's pre-activation is made
 * exactly 0 at every position by zeroing its nearest producer's part for that channel, so the ReLU's output channel
 * is structurally zero, zeroChannels(g, kills) is a true statement about the killed graph, and removeChannels can
 * take the channel away. The producer that can be zeroed:
 * - batchnorm: its scale and shift for the channel (and gamma and beta when it keeps its source parameters, which
 *   then fold to exactly 0 and 0: gamma / sqrt(.) = 0, beta - mean * 0 = 0);
 * - affine whose scale and shift do not broadcast on axis 0: the channel's block of both;
 * - conv: the channel's filter and bias; dense on a 1-D sample: its row and bias.
 * Then x * 0 + 0 and sum(0 * x) + 0 are 0 (or -0) for every finite x, and relu gives 0. A producer whose output
 * another node also reads would change that node too: its ReLU is not killable.
 */
import type { Graph, GraphNode, Tensor } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { notAscendingBelow } from './channels.ts';

/** A ReLU that cannot be killed, and why (for the search and for reports). */
export interface NotKillable {
  node: string;
  reason: string;
}

export interface KillSites {
  /** ReLU node name -> its producer (the node zeroed) */
  killable: Map<string, GraphNode>;
  notKillable: NotKillable[];
}

/** Whether a per-channel constant of shape [C, ...] (or of x's rank) has axis 0 of size C, not broadcast. */
const perChannel = (t: Tensor, C: number): boolean => t.shape.length >= 1 && t.shape[0] === C;

/** Why n (a ReLU) cannot be killed through `p`, its input's producer; null when it can. */
function whyNot(g: Graph, p: GraphNode | undefined, readers: number): string | null {
  if (!p) return 'its input is the graph input';
  if (readers > 1) return `its producer ${p.name} (${p.op}) has other readers`;
  const C = g.shapes.get(p.output)![0];
  switch (p.op) {
    case 'batchnorm': return null;
    case 'affine': return perChannel(p.params.scale, C) && perChannel(p.params.shift, C) ? null : `its producer ${p.name} (affine) broadcasts over channels`;
    case 'conv': return null;
    case 'dense': return g.shapes.get(p.inputs[0])!.length === 1 ? null : `its producer ${p.name} (dense) acts on the last of several axes`;
    default: return `its producer ${p.name} is ${p.op}, not batchnorm, affine, conv or dense`;
  }
}

/** Every ReLU node of g, killable (with its producer) or not (with the reason). */
export function killSites(g: Graph): KillSites {
  const producer = new Map(g.nodes.map((n) => [n.output, n]));
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const t of n.inputs) readers.set(t, (readers.get(t) ?? 0) + 1);
  // the graph's output is read by whoever runs it
  readers.set(g.output.name, (readers.get(g.output.name) ?? 0) + 1);
  const out: KillSites = { killable: new Map(), notKillable: [] };
  for (const n of g.nodes) {
    if (n.op !== 'relu') continue;
    const p = producer.get(n.inputs[0]);
    const why = whyNot(g, p, readers.get(n.inputs[0]) ?? 0);
    if (why) out.notKillable.push({ node: n.name, reason: why });
    else out.killable.set(n.name, p!);
  }
  return out;
}

/** Why `node` is listed as not killable, or undefined (killable, or no ReLU of that name). */
export const whyNotKillable = (sites: KillSites, node: string): string | undefined => sites.notKillable.find((k) => k.node === node)?.reason;

/** A copy of t with the blocks of axis-0 entries `chs` set to 0. */
function zeroBlocks(t: Tensor, chs: readonly number[]): Tensor {
  const data = Float64Array.from(t.data);
  const block = size(t.shape) / t.shape[0];
  for (const c of chs) data.fill(0, c * block, (c + 1) * block);
  return { shape: t.shape, data };
}

/** The producer p with its output channels `chs` made exactly zero. */
function zeroedProducer(p: GraphNode, chs: readonly number[]): GraphNode {
  const z = (t: Tensor): Tensor => zeroBlocks(t, chs);
  switch (p.op) {
    case 'batchnorm': {
      const { gamma, beta } = p.params;
      return { ...p, params: { ...p.params, scale: z(p.params.scale), shift: z(p.params.shift), ...(gamma ? { gamma: z(gamma) } : {}), ...(beta ? { beta: z(beta) } : {}) } };
    }
    case 'affine': return { ...p, params: { scale: z(p.params.scale), shift: z(p.params.shift) } };
    case 'conv': case 'dense': return { ...p, params: { weight: z(p.params.weight), bias: z(p.params.bias) } } as GraphNode;
    default: throw new Error(`internal: killChannels: cannot zero a ${p.op} node (${p.name})`);
  }
}

function checkChannels(name: string, chs: readonly number[], C: number): void {
  if (notAscendingBelow(chs, C) !== undefined) throw new Error(`internal: killChannels: channels [${chs.join(',')}] of ${name} are not ascending indices below ${C}`);
}

/**
 * g with, per ReLU node name, its input channels `kills` forced to zero at every position (see the header). The
 * same nodes, names, shapes, opset and precision; only the producers' constants change. Throws
 * Error('internal: ...') for a node that is not a killable ReLU (killSites lists those).
 */
export function killChannels(g: Graph, kills: ReadonlyMap<string, readonly number[]>): Graph {
  const sites = killSites(g);
  const byProducer = new Map<GraphNode, readonly number[]>();
  for (const [name, chs] of kills) {
    const p = sites.killable.get(name);
    if (!p) {
      const why = whyNotKillable(sites, name) ?? 'not a ReLU node of the graph';
      throw new Error(`internal: killChannels: ${name} cannot be killed: ${why}`);
    }
    checkChannels(name, chs, g.shapes.get(p.output)![0]);
    if (chs.length) byProducer.set(p, chs);
  }
  if (byProducer.size === 0) return g;
  const nodes = g.nodes.map((n) => (byProducer.has(n) ? zeroedProducer(n, byProducer.get(n)!) : n));
  return { ...g, nodes };
}
