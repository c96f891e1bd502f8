/**
 * `bounds --census` on a graph network: the library's census (src/api/census.ts) printed: every ReLU-like node's
 * input elements never / always above the kink (proved on every box), both (witnessed by evaluated points), or
 * unknown; and per channel (axis 0 of [C, H, W]).
 */
import { fail } from '../errors.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import type { Counts, GraphCensus, LayerCensus } from '../verify/graph/census.ts';
import { census } from '../api/census.ts';
import { makeProgress } from './progress.ts';
import { showing } from './api-progress.ts';
import { EXIT, nBoxes, numberOpt, printJson } from './common.ts';
import { writeFileAtomic } from '../formats/atomic.ts';
import { censusReport } from '../report/census.ts';
import { VERSION } from '../version.ts';

/** default seconds for a graph's census: the issue's goal per input ball is a minute */
const DEFAULT_TIMEOUT_S = 30;

const indicesOf = (L: LayerCensus, phase: string): number[] => L.phases.flatMap((p, i) => (p === phase ? [i] : []));

const countsText = (c: Counts): string => `never active ${c.never}, always active ${c.always}, both ${c.both}, unknown ${c.unknown}`;

function printText(g: Graph, c: GraphCensus): void {
  const w = process.stdout;
  for (const L of c.layers) {
    const op = g.nodes.find((n) => n.name === L.node)?.op ?? '?';
    const n = L.phases.length;
    const ch = L.channels ? `; ${L.channels.phases.length} channels: ${countsText(L.channels.counts)}` : '';
    w.write(`${L.node} (${op}) input [${L.shape.join(', ')}]: ${n} neurons: ${countsText(L.counts)}${ch}\n`);
  }
  w.write(`all: neurons ${countsText(c.totals)}\n`);
  if (c.layers.some((L) => L.channels)) w.write(`all: channels ${countsText(c.channelTotals)}\n`);
}

function jsonOf(c: GraphCensus, boxes: number): unknown {
  return {
    counts: c.totals,
    channelCounts: c.channelTotals,
    boxes,
    timeMs: c.timeMs,
    reason: c.reason ?? null,
    layers: c.layers.map((L) => ({
      node: L.node,
      shape: L.shape,
      neurons: L.phases.length,
      counts: L.counts,
      never: indicesOf(L, 'never'),
      always: indicesOf(L, 'always'),
      unknown: indicesOf(L, 'unknown'),
      channels: L.channels ? { counts: L.channels.counts, phases: L.channels.phases } : null,
    })),
  };
}

function reportOf(c: GraphCensus, path: string, boxes: number): string {
  const layers = c.layers.map((L) => ({ name: L.node, shape: L.shape, phases: L.phases, ...(L.channels ? { channels: L.channels.phases } : {}) }));
  return censusReport({ model: path, kind: 'graph', layers, counts: c.totals, channelCounts: c.channelTotals, boxes, timeMs: c.timeMs, ...(c.reason ? { reason: c.reason } : {}), version: VERSION });
}

export async function graphCensus(g: Graph, path: string, domain: Box[], values: Record<string, unknown>): Promise<number> {
  if (values.method !== undefined) fail('--census takes no --method (it uses CROWN and optimised slopes itself)');
  if (values.redis !== undefined) fail(`--redis: the census of a graph network (${path}) runs in this process (the job queue takes chain networks' censuses)`);
  if (values['task-timeout'] !== undefined) fail(`--task-timeout: the census of a graph network (${path}) has one time limit, --timeout S`);
  const timeoutMs = numberOpt(values, 'timeout', DEFAULT_TIMEOUT_S, 0.01) * 1000;
  const progress = makeProgress(values.json !== true);
  const c = await census(g, domain, { timeoutMs, onProgress: showing(progress) }).finally(() => progress.done());
  // a bound refused (a divisor's interval containing 0) leaves every proof out: what stands is the witnesses
  const refused = c.reason?.startsWith('bound refused') === true;
  // the path was checked before the census (cmd-bounds.ts)
  if (typeof values.report === 'string') writeFileAtomic(values.report, reportOf(c, path, domain.length));
  if (values.json) printJson(jsonOf(c, domain.length));
  else {
    printText(g, c);
    process.stderr.write(`(${nBoxes(domain.length)}, ${(c.timeMs / 1000).toFixed(2)} s${c.reason && !refused ? `; ${c.reason}` : ''})\n`);
  }
  if (!refused) return EXIT.ok;
  process.stderr.write(`nnshrink: ${path}: nothing proved: ${c.reason}\n`);
  return EXIT.unknown;
}
