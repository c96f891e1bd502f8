/**
 * The report of `bounds --census`: per layer a map of its neurons (and, on graphs, of its channels) coloured by
 * phase, with the counts beside it. One input type for chains and graphs: a layer is a list of phases.
 */
import type { Phase } from '../verify/phase/types.ts';
import { countOf, type Counts } from '../verify/graph/census-tally.ts';
import { dataAttrs, dur, esc, facts, num, optRow, page, section, table } from './html.ts';
import { cellMap, legend, type Key } from './svg.ts';

export interface CensusLayer {
  /** "layer 1", or the ReLU node's name */
  name: string;
  /** the layer's input shape on graphs */
  shape?: readonly number[];
  phases: readonly Phase[];
  /** graphs: per channel */
  channels?: readonly Phase[];
}

export interface CensusReportInput {
  model: string;
  kind: 'chain' | 'graph';
  layers: CensusLayer[];
  counts: Counts;
  channelCounts?: Counts;
  boxes: number;
  timeMs: number;
  /** why some are left unknown (graphs) */
  reason?: string;
  version: string;
}

const PHASES: readonly Phase[] = ['never', 'always', 'both', 'unknown'];
const PHASE_KEYS: Key[] = [
  { name: 'never active', color: '#9aa3b5' },
  { name: 'always active', color: '#f2a541' },
  { name: 'both', color: '#2f7fc1' },
  { name: 'unknown', color: '#e0605e' },
];
const COLOR: Record<Phase, string> = { never: PHASE_KEYS[0].color, always: PHASE_KEYS[1].color, both: PHASE_KEYS[2].color, unknown: PHASE_KEYS[3].color };

/** Beyond this many cells a layer's map shows its channels only (a browser draws 20,000 rectangles well). */
const MAX_CELLS = 20_000;

/** Cells per row and their size: short layers large, long ones in rows of 128 small cells. */
function geometry(n: number): { perRow: number; cell: number } {
  if (n <= 64) return { perRow: 64, cell: 16 };
  if (n <= 512) return { perRow: 64, cell: 14 };
  return { perRow: 128, cell: 8 };
}

/** An image-like input [C, H, W] (H x W more than one cell): its [H, W], drawn as one picture per channel. */
const tileOf = (shape?: readonly number[]): [number, number] | undefined => (shape?.length === 3 && shape[1] * shape[2] > 1 ? [shape[1], shape[2]] : undefined);

function map(ps: readonly Phase[], what: string, layer: string, shape?: readonly number[]): string {
  if (ps.length > MAX_CELLS) return `<p class="note">${num(ps.length)} ${what}s: too many to draw one by one (the counts are above; --json lists them).</p>`;
  const tile = tileOf(shape);
  const g = tile ? { tile, cell: Math.min(12, Math.max(3, Math.round(128 / tile[1]))) } : geometry(ps.length);
  return cellMap(
    ps.map((p) => COLOR[p]),
    ps.map((p, i) => `${layer}, ${what} ${i}: ${p}`),
    { ...g, cls: what, data: ps.map((p, i) => ({ index: i, phase: p })) },
  );
}

const tileNote = (shape?: readonly number[]): string => {
  const tile = tileOf(shape);
  return tile ? ` (one ${tile[0]} × ${tile[1]} picture per channel)` : '';
};

/** "never 3, always 1, both 4, unknown 0" */
const phaseList = (c: Counts): string => PHASES.map((p) => `${p} ${c[p]}`).join(', ');

function layerBlock(L: CensusLayer, c: Counts): string {
  const shape = L.shape ? ` input [${L.shape.join(', ')}]` : '';
  const channels = L.channels
    ? `<div class="channels"><p class="note">${L.channels.length} channels: ${phaseList(countOf(L.channels))}</p>${map(L.channels, 'channel', L.name)}</div>`
    : '';
  return (
    `<div class="census-layer"${dataAttrs({ layer: L.name, neurons: L.phases.length, never: c.never, always: c.always, both: c.both, unknown: c.unknown })}>` +
    `<h3>${esc(L.name)}${esc(shape)}</h3><p class="note">${L.phases.length} neurons: ${esc(phaseList(c))}${tileNote(L.shape)}</p>${map(L.phases, 'neuron', L.name, L.shape)}${channels}</div>`
  );
}

export function censusReport(o: CensusReportInput): string {
  // each layer's phases counted once, for the table, its block and the data
  const counts = o.layers.map((L) => countOf(L.phases));
  const rows = o.layers.map((L, k) => [L.name, L.phases.length, counts[k].never, counts[k].always, counts[k].both, counts[k].unknown]);
  const summary = facts([
    ['model', o.model],
    ['neurons', phaseList(o.counts)],
    ...optRow(o.channelCounts !== undefined, 'channels', () => phaseList(o.channelCounts!)),
    ['domain', `${o.boxes} box${o.boxes === 1 ? '' : 'es'}`],
    ['time', dur(o.timeMs)],
    ...optRow(o.reason !== undefined, 'left open because', () => o.reason!),
    ['meaning', 'never / always active: proved on the whole domain; both: two evaluated inputs show it; unknown: neither within the limits'],
  ]);
  const tab = table({ id: 'census-table', head: ['layer', 'neurons', 'never', 'always', 'both', 'unknown'], numeric: [1, 2, 3, 4, 5], rows });
  return page({
    kind: 'census',
    title: `nnshrink bounds --census: ${o.model}`,
    subtitle: `${o.kind === 'graph' ? 'graph network' : 'chain of dense layers'}; ${o.layers.length} ReLU layers`,
    sections: [
      section('Summary', summary + tab, 'summary'),
      section('Phase of every neuron', legend(PHASE_KEYS) + o.layers.map((L, k) => layerBlock(L, counts[k])).join(''), 'maps'),
    ],
    data: { kind: 'census', counts: o.counts, channelCounts: o.channelCounts ?? null, layers: o.layers.map((L, k) => ({ name: L.name, ...counts[k], neurons: L.phases.length })) },
    version: o.version,
  });
}
