/**
 * The certificate of a channel prune of a graph network: the two files (by path and the sha256 of their bytes),
 * the domain, the removed channels, the facts that licensed them and the final check. `nnshrink check` recomputes
 * the proof from the two files and the domain; the removed channels say what to compare, the facts are hints.
 */
import { createHash } from 'node:crypto';
import { fail, quote } from '../../errors.ts';
import { boxToJSON, type Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { graphParameters } from '../../model/graph/params.ts';
import type { GraphCensus } from '../../verify/graph/census.ts';
import type { ChannelSets } from './channels.ts';
import { killSites, whyNotKillable } from './kill.ts';
import type { GraphCheckResult } from './check.ts';
import type { GraphClassCheckResult } from './class-check.ts';
import type { GraphEpsCheckResult } from './eps-check.ts';
import { CLASS_TOLERANCE, certificateDomain, certificateValidator, DOMAIN_SCHEMA, EXACT_TOLERANCE, FILE_SCHEMA, linfTolerance } from '../certificate-parts.ts';

export const GRAPH_CERTIFICATE_FORMAT = 'nnshrink-graph-certificate';

export interface GraphSizes {
  parameters: number;
  /** per conv / dense node, its output channels */
  channels: Record<string, number>;
}

/** exact: g = f on the domain; class: g's winner is f's, ahead by more than the margin (class-check.ts); linf:
 * max |f - g| <= epsilon on every output (eps-check.ts) */
export type GraphTolerance = { kind: 'exact' } | { kind: 'class'; order: 'argmax' | 'argmin'; margin: number } | { kind: 'linf'; epsilon: number };

export type GraphFinalCheck = GraphCheckResult | GraphClassCheckResult | GraphEpsCheckResult;

/** A graph prune's certificate: the two files by path and sha256, the domain, the removed channels, the facts and the final check. */
export interface GraphCertificate {
  format: typeof GRAPH_CERTIFICATE_FORMAT;
  version: 1;
  tool: string;
  createdAt: string;
  input: { path: string; sha256: string; sizes: GraphSizes };
  output: { path: string; sha256: string; precision: 'float32' | 'float64'; opset: number; sizes: GraphSizes };
  domain: Array<{ lo: number[]; hi: number[] }>;
  tolerance: GraphTolerance;
  claim: string;
  /** class and linf modes: per ReLU node, its input channels forced to zero before the removal (class: for
   * information; linf: what check pads f with, see eps-check.ts) */
  kills?: Array<{ node: string; channels: number[] }>;
  /** per tensor of the original, the channels the stored network does not have */
  removed: Array<{ tensor: string; channels: number[] }>;
  /** per ReLU node of the original, its input channels the census proved never active (hints: check re-proves) */
  facts: Array<{ node: string; channels: number[] }>;
  census: { never: number; always: number; both: number; unknown: number; channels: { never: number; always: number; both: number; unknown: number }; timeMs: number; reason?: string };
  finalCheck: GraphFinalCheck;
  totalTimeMs: number;
}

export const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function graphSizes(g: Graph): GraphSizes {
  const parameters = graphParameters(g);
  const channels: Record<string, number> = {};
  for (const n of g.nodes) {
    if (n.op === 'conv' || n.op === 'dense') channels[n.name] = n.params.bias.data.length;
  }
  return { parameters, channels };
}

const setToJSON = <K extends string>(s: ReadonlyMap<string, readonly number[]>, key: K): Array<Record<K, string> & { channels: number[] }> =>
  [...s].filter(([, c]) => c.length).map(([t, c]) => ({ [key]: t, channels: [...c] }) as Record<K, string> & { channels: number[] });

export interface GraphCertificateInput {
  version: string;
  input: { path: string; bytes: Uint8Array; graph: Graph };
  output: { path: string; bytes: Uint8Array; graph: Graph; precision: 'float32' | 'float64'; opset: number };
  domain: readonly Box[];
  removed: ChannelSets;
  dead: ReadonlyMap<string, readonly number[]>;
  census: GraphCensus;
  tolerance: GraphTolerance;
  kills?: ReadonlyMap<string, readonly number[]>;
  finalCheck: GraphFinalCheck;
  totalTimeMs: number;
}

export function buildGraphCertificate(c: GraphCertificateInput): GraphCertificate {
  const cc = c.census;
  return {
    format: GRAPH_CERTIFICATE_FORMAT,
    version: 1,
    tool: `nnshrink ${c.version}`,
    createdAt: new Date().toISOString(),
    input: { path: c.input.path, sha256: sha256Of(c.input.bytes), sizes: graphSizes(c.input.graph) },
    output: { path: c.output.path, sha256: sha256Of(c.output.bytes), precision: c.output.precision, opset: c.output.opset, sizes: graphSizes(c.output.graph) },
    domain: c.domain.map(boxToJSON),
    tolerance: c.tolerance,
    claim: c.finalCheck.claim,
    ...(c.kills ? { kills: setToJSON(c.kills, 'node') } : {}),
    removed: setToJSON(c.removed, 'tensor'),
    facts: setToJSON(c.dead, 'node'),
    census: { ...cc.totals, channels: cc.channelTotals, timeMs: cc.timeMs, ...(cc.reason ? { reason: cc.reason } : {}) },
    finalCheck: c.finalCheck,
    totalTimeMs: c.totalTimeMs,
  };
}

const nonNegInt = { type: 'integer', minimum: 0 };
const named = (key: string) => ({
  type: 'array',
  maxItems: 100_000,
  items: { type: 'object', required: [key, 'channels'], properties: { [key]: { type: 'string' }, channels: { type: 'array', items: nonNegInt, maxItems: 1 << 20 } } },
});
const SCHEMA = {
  type: 'object',
  required: ['format', 'version', 'input', 'output', 'domain', 'tolerance', 'removed'],
  properties: {
    input: FILE_SCHEMA,
    output: FILE_SCHEMA,
    domain: DOMAIN_SCHEMA,
    tolerance: { oneOf: [EXACT_TOLERANCE, CLASS_TOLERANCE, linfTolerance({ minimum: 0 })] },
    removed: named('tensor'),
    kills: named('node'),
    facts: named('node'),
  },
} as const;

/** A parsed graph certificate checked against the schema: a one-line error naming the field, before any work. */
export const validateGraphCertificate: (obj: unknown, path: string) => GraphCertificate = certificateValidator<GraphCertificate>(SCHEMA);

/** The certificate's domain for f (one finite interval per input, lo <= hi) and its removed channels checked against
 * f's tensors (each named tensor exists, each channel within its first axis, no repeats). */
export function graphCertificateParts(c: GraphCertificate, f: Graph, path: string): { domain: Box[]; removed: Map<string, number[]> } {
  const domain = certificateDomain(c.domain, size(f.input.shape), path);
  const removed = new Map<string, number[]>();
  c.removed.forEach((r, k) => {
    const at = `${path}: removed[${k}]`;
    const s = f.shapes.get(r.tensor);
    if (!s) fail(`${at}: the original has no tensor ${quote(r.tensor)}`);
    if (removed.has(r.tensor)) fail(`${at}: tensor ${quote(r.tensor)} is listed twice`);
    const sorted = [...r.channels].sort((a, b) => a - b);
    sorted.forEach((ch, i) => {
      if (ch >= s[0]) fail(`${at}: channel ${ch} of ${quote(r.tensor)}, which has ${s[0]}`);
      if (i > 0 && sorted[i - 1] === ch) fail(`${at}: channel ${ch} is listed twice`);
    });
    removed.set(r.tensor, sorted);
  });
  return { domain, removed };
}

/** The certificate's kills checked against f: each node a ReLU whose channels can be forced to zero (kill.ts), each
 * channel within its input's first axis, no node or channel twice; ascending per node. */
export function graphCertificateKills(c: GraphCertificate, f: Graph, path: string): Map<string, number[]> {
  const sites = killSites(f);
  const kills = new Map<string, number[]>();
  (c.kills ?? []).forEach((k, i) => {
    const at = `${path}: kills[${i}]`;
    const p = sites.killable.get(k.node);
    if (!p) {
      const why = whyNotKillable(sites, k.node);
      fail(`${at}: ${quote(k.node)} is not a ReLU of the original whose channels can be forced to zero${why ? ` (${why})` : ''}`);
    }
    if (kills.has(k.node)) fail(`${at}: node ${quote(k.node)} is listed twice`);
    const C = f.shapes.get(p.output)![0];
    const sorted = [...k.channels].sort((a, b) => a - b);
    sorted.forEach((ch, j) => {
      if (ch >= C) fail(`${at}: channel ${ch} of ${quote(k.node)}, whose input has ${C}`);
      if (j > 0 && sorted[j - 1] === ch) fail(`${at}: channel ${ch} is listed twice`);
    });
    kills.set(k.node, sorted);
  });
  return kills;
}
