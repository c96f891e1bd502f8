/**
 * Inline SVG for the reports: colours, legends, ticks, horizontal (stacked) bars and maps of cells (plots.ts has
 * the plots with axes). Each draws in its own viewBox (scaled to the page's width by CSS), every mark carries its
 * figures as data attributes and a data-tip hover text, and every text from data is escaped.
 */
import { dataAttrs, dur, esc, num } from './html.ts';

export interface Key {
  name: string;
  color: string;
}

/** Colour stops of a perceptually even sequential scale (viridis, five stops). */
export const STOPS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** t in [0, 1] (clamped) to a colour of the sequential scale. */
export function seqColor(t: number): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - i;
  const c = STOPS[i].map((a, k) => Math.round(a + f * (STOPS[i + 1][k] - a)));
  return `rgb(${c.join(',')})`;
}

export function legend(keys: Key[]): string {
  return `<div class="legend">${keys.map((k) => `<span style="--c:${esc(k.color)}">${esc(k.name)}</span>`).join('')}</div>`;
}

/** About n round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** The smallest tick at or above v: a plot's top that carries a label. */
export function niceTop(v: number): number {
  const t = ticks(0, v);
  const step = t.length > 1 ? t[1] - t[0] : v || 1;
  return Math.ceil(v / step - 1e-9) * step || step;
}

export interface BarRow {
  label: string;
  /** one value per key (a plain bar: one key) */
  values: number[];
  /** text at the bar's end */
  note?: string;
  data?: Record<string, string | number>;
}

/** Horizontal bars, one row each, stacked by key, on a common scale (the largest row's total). */
export function stackedBars(rows: BarRow[], keys: Key[], o: { cls?: string; unit?: string; width?: number } = {}): string {
  const W = o.width ?? 1100;
  const labelW = W < 800 ? 150 : 240;
  const noteW = W < 800 ? 120 : 170;
  const rowH = 26;
  const plotW = W - labelW - noteW;
  const max = Math.max(1, ...rows.map((r) => r.values.reduce((a, b) => a + b, 0)));
  const H = rows.length * rowH + 8;
  const body = rows
    .map((r, i) => {
      const y = 4 + i * rowH;
      let x = labelW;
      const segs = r.values
        .map((v, k) => {
          // a positive value stays visible (and can be pointed at) however small against the largest row
          const w = v > 0 ? Math.max(1, (v / max) * plotW) : 0;
          const rect = v > 0 ? `<rect x="${x.toFixed(2)}" y="${y + 3}" width="${w.toFixed(2)}" height="${rowH - 8}" fill="${keys[k].color}"${dataAttrs({ key: keys[k].name, value: v })} data-tip="${esc(`${r.label}: ${keys[k].name} ${num(v)}${o.unit ?? ''}`)}"/>` : '';
          x += w;
          return rect;
        })
        .join('');
      return (
        `<g class="${o.cls ?? 'bar'}"${dataAttrs(r.data ?? {})}><text x="${labelW - 8}" y="${y + rowH / 2 + 3}" text-anchor="end">${esc(clip(r.label, labelW / 7))}</text>` +
        `${segs}<text x="${(x + 6).toFixed(2)}" y="${y + rowH / 2 + 3}">${esc(r.note ?? '')}</text></g>`
      );
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" role="img">${body}</svg>`;
}

/** One bar per stage of a run, its time in seconds (the check's and the prune's time sections). */
export function stageBars(stages: Array<[string, number]>): string {
  const rows = stages.map(([label, ms]) => ({ label, values: [ms / 1000], note: dur(ms), data: { stage: label, ms } }));
  return stackedBars(rows, [{ name: 'time', color: '#21918c' }], { cls: 'stage', unit: ' s' });
}

/** A long name shortened in the middle (the whole name stays in the hover text and the tables). */
function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.ceil(n / 2) - 1)}…${s.slice(s.length - Math.floor(n / 2))}`;
}

/** Cells in rows of `perRow`, one colour each: a layer's neurons or channels at a glance. With `tile` [h, w], the
 * cells are a [C, h, w] tensor's, drawn as one h x w picture per channel, side by side (the layout of the image). */
export function cellMap(colors: string[], tips: string[], o: { perRow?: number; cell?: number; cls?: string; data?: Array<Record<string, string | number>>; tile?: [number, number] }): string {
  const c = o.cell ?? 14;
  const at = o.tile ? tileLayout(o.tile, c) : rowLayout(o.perRow ?? 64, c);
  let W = 0;
  let H = 0;
  const cells = colors
    .map((col, i) => {
      const [x, y] = at(i);
      W = Math.max(W, x + c);
      H = Math.max(H, y + c);
      return `<rect class="${o.cls ?? 'cell'}" x="${x}" y="${y}" width="${c - 1}" height="${c - 1}" fill="${col}"${o.data ? dataAttrs(o.data[i]) : ''} data-tip="${esc(tips[i])}"/>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" role="img">${cells}</svg>`;
}

const rowLayout = (per: number, c: number) => (i: number): [number, number] => [(i % per) * c, Math.floor(i / per) * c];

/** Channel pictures of h x w cells, as many to a row as fit in 1100 units, a gap of one cell (at least 6) between. */
function tileLayout([h, w]: [number, number], c: number): (i: number) => [number, number] {
  const gap = Math.max(6, c);
  const perRow = Math.max(1, Math.floor((1100 + gap) / (w * c + gap)));
  return (i) => {
    const ch = Math.floor(i / (h * w));
    const r = Math.floor((i % (h * w)) / w);
    return [(ch % perRow) * (w * c + gap) + (i % w) * c, Math.floor(ch / perRow) * (h * c + gap) + r * c];
  };
}
