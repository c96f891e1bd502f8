/**
 * The report of a graph (CNN) prune: per convolution or dense node its output channels before and after, by what
 * became of them (dead: proved zero on the domain; killed: live channels forced to zero by the class search, kept);
 * parameters before and after; the claim; the hashes. graphPruneNodes derives the per-node counts from what
 * src/cli/graph-prune.ts has (its GraphRun: the graph, the summary, the removed channels and the kills).
 */
import type { Graph } from '../model/graph/types.ts';
import type { GraphCertificate } from '../simplify/graph/certificate.ts';
import type { ChannelSets, ChannelSummary } from '../simplify/graph/channels.ts';
import { badge, change, code, dur, facts, num, optRow, page, section, table, type FactRow } from './html.ts';
import { legend, stackedBars, type Key } from './svg.ts';

export interface GraphNodeChannels {
  node: string;
  op: string;
  before: number;
  /** removed because proved zero on the domain (or implied zero by those) */
  dead: number;
  /** removed because the class search forced them to zero (class mode) */
  killed: number;
  after: number;
}

export interface GraphPruneReportInput {
  model: string;
  output: string;
  certificatePath: string;
  cert: GraphCertificate;
  nodes: GraphNodeChannels[];
  /** ReLU channels never active at some positions only (kept) */
  partlyStable?: number;
  /** class mode: the search's figures */
  search?: { winner: number; candidates: number; accepted: number; attempts: number; ended: string; reason?: string };
  version: string;
}

const KEYS: Key[] = [
  { name: 'dead (proved zero)', color: '#9aa3b5' },
  { name: 'killed (class search)', color: '#e0605e' },
  { name: 'kept', color: '#2f7fc1' },
];

/** Nodes that keep channel c as channel c (one data input): a kill at a ReLU names its producer's channels. */
const CHANNEL_PRESERVING = new Set(['batchnorm', 'affine', 'relu', 'leakyrelu', 'prelu', 'clip', 'pad', 'maxpool', 'averagepool']);

/** The conv / dense node whose output channels a tensor's channels are, through channel-preserving nodes. */
function producerOf(g: Graph, tensor: string): string | undefined {
  const byOutput = new Map(g.nodes.map((n) => [n.output, n]));
  for (let n = byOutput.get(tensor); n; n = byOutput.get(n.inputs[0])) {
    if (n.op === 'conv' || n.op === 'dense') return n.name;
    if (!CHANNEL_PRESERVING.has(n.op) || n.inputs.length !== 1) return undefined;
  }
  return undefined;
}

/**
 * Per conv / dense node: channels before, after, and how many of the removed ones the class search killed (a kill
 * at a ReLU node is on its input channels, traced back to their producer); the rest of the removed are dead.
 */
export function graphPruneNodes(f: Graph, summary: ChannelSummary, removed: ChannelSets, kills?: ReadonlyMap<string, readonly number[]>): GraphNodeChannels[] {
  const killedOf = new Map<string, Set<number>>();
  for (const [relu, chs] of kills ?? []) {
    const n = f.nodes.find((m) => m.name === relu);
    const p = n && producerOf(f, n.inputs[0]);
    if (!p) continue;
    const set = killedOf.get(p) ?? new Set<number>();
    chs.forEach((c) => set.add(c));
    killedOf.set(p, set);
  }
  // a node's channels may be listed on its own output or on tensors after it (a BatchNormalization's, a ReLU's)
  const goneOf = new Map<string, Set<number>>();
  for (const [t, chs] of removed) {
    const p = producerOf(f, t);
    if (!p) continue;
    const set = goneOf.get(p) ?? new Set<number>();
    chs.forEach((c) => set.add(c));
    goneOf.set(p, set);
  }
  return summary.nodes.map((s) => {
    const gone = [...(goneOf.get(s.node) ?? [])];
    const k = killedOf.get(s.node);
    const total = s.before - s.after;
    const killed = Math.min(total, k ? gone.filter((c) => k.has(c)).length : 0);
    return { node: s.node, op: s.op, before: s.before, dead: total - killed, killed, after: s.after };
  });
}

function claimRows(o: GraphPruneReportInput): FactRow[] {
  const r = o.cert.finalCheck;
  const sampled = 'maxAbsDiff' in r.sampling ? `largest |f-g| ${num(r.sampling.maxAbsDiff)}` : `smallest lead of the winner in g ${num(r.sampling.minLeadG)}`;
  const s = o.search;
  return [
    ['claim', o.cert.claim],
    ['verdict', { html: badge(r.verdict.status) }],
    ['proved by', `${r.verdict.method}${'facts' in r ? `: ${r.facts.reproved} of ${r.facts.claimed} removed channels re-proved zero by a fresh census` : ''}`],
    ['sampling', `${num(r.sampling.points)} points, ${sampled}`],
    ['census (channels)', `never ${o.cert.census.channels.never}, always ${o.cert.census.channels.always}, both ${o.cert.census.channels.both}, unknown ${o.cert.census.channels.unknown}`],
    ...optRow(o.partlyStable !== undefined, 'partly stable channels (kept)', () => o.partlyStable!),
    ...optRow(s !== undefined, 'class search', () => `winner ${s!.winner}; ${s!.accepted} of ${s!.candidates} live channels removed in ${s!.attempts} attempts; ended: ${s!.ended}${s!.reason ? ` (${s!.reason})` : ''}`),
  ];
}

export function graphPruneReport(o: GraphPruneReportInput): string {
  const c = o.cert;
  const rows = o.nodes.map((n) => ({
    label: n.node,
    values: [n.dead, n.killed, n.after],
    note: `${n.before} → ${n.after}`,
    data: { node: n.node, op: n.op, before: n.before, dead: n.dead, killed: n.killed, after: n.after },
  }));
  const pb = c.input.sizes.parameters;
  const pa = c.output.sizes.parameters;
  const params = table({ id: 'sizes', head: ['', 'before', 'after', 'change'], numeric: [1, 2, 3], rows: [['parameters', pb, pa, change(pb, pa)]], rowData: [{ what: 'parameters', before: pb, after: pa }] });
  return page({
    kind: 'graph-prune',
    title: `nnshrink prune (graph): ${o.model}`,
    subtitle: `${o.model} → ${o.output}; ${c.tolerance.kind === 'class' ? `class (${c.tolerance.order})` : 'exact'}`,
    sections: [
      section('Channels per node', legend(KEYS) + stackedBars(rows, KEYS, { cls: 'node' }), 'layers'),
      section('Parameters', params, 'sizes-section'),
      section('The claim and its proof', facts(claimRows(o)), 'claim'),
      section('Certificate', facts([['original', code(o.model)], ['original sha256', code(c.input.sha256, 'input')], ['pruned', code(o.output)], ['pruned sha256', code(c.output.sha256, 'output')], ['certificate', code(o.certificatePath)]]), 'hashes'),
      section('Time', facts([['phase census', dur(c.census.timeMs)], ['final check', dur(c.finalCheck.verdict.timeMs)], ['total', dur(c.totalTimeMs)]]), 'times'),
    ],
    data: { kind: 'graph-prune', nodes: o.nodes, parameters: { before: pb, after: pa } },
    version: o.version,
  });
}
