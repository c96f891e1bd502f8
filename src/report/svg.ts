/**
 * Inline SVG charts for the reports: horizontal (stacked) bars, a histogram, a cactus plot, rectangles in a plane,
 * and a map of cells. Each draws in its own viewBox (scaled to the page's width by CSS), every mark carries its
 * figures as data attributes and a data-tip hover text, and every text from data is escaped.
 */
import { dataAttrs, esc, num } from './html.ts';

export interface Key {
  name: string;
  color: string;
}

/** Colour stops of a perceptually even sequential scale (viridis, five stops). */
const STOPS = [
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
          const w = (v / max) * plotW;
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

/** A long name shortened in the middle (the whole name stays in the hover text and the tables). */
export function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.ceil(n / 2) - 1)}…${s.slice(s.length - Math.floor(n / 2))}`;
}

interface Frame {
  W: number;
  H: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const sx = (f: Frame, lo: number, hi: number) => (v: number) => f.left + ((v - lo) / (hi - lo || 1)) * (f.W - f.left - f.right);
const sy = (f: Frame, lo: number, hi: number) => (v: number) => f.H - f.bottom - ((v - lo) / (hi - lo || 1)) * (f.H - f.top - f.bottom);

/** The axes of a plot with their ticks and labels. */
function axes(f: Frame, xr: [number, number], yr: [number, number], xLabel: string, yLabel: string): string {
  const X = sx(f, ...xr);
  const Y = sy(f, ...yr);
  const xt = ticks(...xr).map((v) => `<line x1="${X(v)}" x2="${X(v)}" y1="${f.H - f.bottom}" y2="${f.H - f.bottom + 5}" stroke="#8a90a0"/><text x="${X(v)}" y="${f.H - f.bottom + 18}" text-anchor="middle">${esc(num(v, 3))}</text>`);
  const yt = ticks(...yr).map((v) => `<line x1="${f.left - 5}" x2="${f.W - f.right}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e6e9ef"/><text x="${f.left - 8}" y="${Y(v) + 4}" text-anchor="end">${esc(num(v, 3))}</text>`);
  return (
    `<g class="axes">${yt.join('')}${xt.join('')}` +
    `<line x1="${f.left}" x2="${f.W - f.right}" y1="${f.H - f.bottom}" y2="${f.H - f.bottom}" stroke="#8a90a0"/>` +
    `<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.H - f.bottom}" stroke="#8a90a0"/>` +
    `<text x="${(f.left + f.W - f.right) / 2}" y="${f.H - 6}" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text transform="translate(14 ${(f.top + f.H - f.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text></g>`
  );
}

/** A histogram of integer-ish values in at most `maxBins` equal bins. */
export function histogram(values: number[], o: { xLabel: string; yLabel?: string; maxBins?: number; color?: string }): string {
  const f: Frame = { W: 540, H: 300, left: 56, top: 12, right: 16, bottom: 44 };
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const bins = Math.max(1, Math.min(o.maxBins ?? 20, Number.isInteger(lo) && Number.isInteger(hi) ? hi - lo + 1 : 20));
  const width = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  const x0 = lo;
  const x1 = lo + bins * width;
  const X = sx(f, x0, x1);
  const Y = sy(f, 0, Math.max(...counts));
  const bars = counts
    .map((c, i) => {
      const a = x0 + i * width;
      const b = a + width;
      const tip = `${num(a, 4)} to ${num(b, 4)}: ${c}`;
      return `<rect class="bin" x="${X(a) + 1}" y="${Y(c)}" width="${Math.max(1, X(b) - X(a) - 2)}" height="${Y(0) - Y(c)}" fill="${o.color ?? '#3b528b'}"${dataAttrs({ lo: a, hi: b, count: c })} data-tip="${esc(tip)}"/>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${f.W} ${f.H}" width="${f.W}" role="img">${axes(f, [x0, x1], [0, Math.max(...counts)], o.xLabel, o.yLabel ?? 'count')}${bars}</svg>`;
}

export interface Series {
  name: string;
  color: string;
  /** the solved instances' times in seconds, any order */
  times: number[];
}

/** A cactus plot: per series, the k-th fastest solved instance's time against k. */
export function cactus(series: Series[], o: { total: number; yLabel: string }): string {
  const f: Frame = { W: 700, H: 340, left: 60, top: 12, right: 16, bottom: 44 };
  const ymax = Math.max(1e-3, ...series.flatMap((s) => s.times));
  const X = sx(f, 0, Math.max(1, o.total));
  const Y = sy(f, 0, ymax);
  const lines = series
    .map((s) => {
      const ts = [...s.times].sort((a, b) => a - b);
      const pts = ts.map((t, i) => [X(i + 1), Y(t)] as const);
      const path = pts.length ? `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => p.join(',')).join(' ')}"/>` : '';
      const dots = ts.map((t, i) => `<circle cx="${X(i + 1)}" cy="${Y(t)}" r="3.5" fill="${s.color}"${dataAttrs({ series: s.name, rank: i + 1, time: t })} data-tip="${esc(`${s.name}: ${i + 1} solved within ${num(t, 3)} s`)}"/>`).join('');
      return `<g class="series"${dataAttrs({ name: s.name, solved: ts.length })}>${path}${dots}</g>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${f.W} ${f.H}" width="${f.W}" role="img">${axes(f, [0, Math.max(1, o.total)], [0, ymax], 'instances solved', o.yLabel)}${lines}</svg>`;
}

export interface Rect {
  x: [number, number];
  y: [number, number];
  color: string;
  tip: string;
  data: Record<string, string | number>;
}

/** Rectangles (boxes projected on two axes) in a plane spanning xr by yr. */
export function rectPlot(rects: Rect[], xr: [number, number], yr: [number, number], xLabel: string, yLabel: string): string {
  const f: Frame = { W: 620, H: 560, left: 60, top: 12, right: 16, bottom: 44 };
  const X = sx(f, ...xr);
  const Y = sy(f, ...yr);
  const body = rects
    .map((r) => `<rect class="box" x="${X(r.x[0])}" y="${Y(r.y[1])}" width="${Math.max(0.5, X(r.x[1]) - X(r.x[0]))}" height="${Math.max(0.5, Y(r.y[0]) - Y(r.y[1]))}" fill="${r.color}" fill-opacity="0.8" stroke="#fff" stroke-width="1"${dataAttrs(r.data)} data-tip="${esc(r.tip)}"/>`)
    .join('');
  return `<svg viewBox="0 0 ${f.W} ${f.H}" width="${f.W}" role="img">${axes(f, xr, yr, xLabel, yLabel)}${body}</svg>`;
}

/** A colour bar for the sequential scale from lo to hi. */
export function colorBar(lo: number, hi: number, label: string): string {
  const W = 300;
  const stops = STOPS.map((_, i) => `<stop offset="${i / (STOPS.length - 1)}" stop-color="${seqColor(i / (STOPS.length - 1))}"/>`).join('');
  return (
    `<svg viewBox="0 0 ${W} 46" width="${W}" role="img"><defs><linearGradient id="cbar">${stops}</linearGradient></defs>` +
    `<rect x="10" y="4" width="${W - 20}" height="14" fill="url(#cbar)"/><text x="10" y="32">${esc(num(lo))}</text>` +
    `<text x="${W - 10}" y="32" text-anchor="end">${esc(num(hi))}</text><text x="${W / 2}" y="32" text-anchor="middle">${esc(label)}</text></svg>`
  );
}

/** Cells in rows of `perRow`, one colour each: a layer's neurons or channels at a glance. */
export function cellMap(colors: string[], tips: string[], o: { perRow?: number; cell?: number; cls?: string; data?: Array<Record<string, string | number>> }): string {
  const per = o.perRow ?? 64;
  const c = o.cell ?? 14;
  const rows = Math.ceil(colors.length / per);
  const W = Math.min(colors.length, per) * c;
  const cells = colors.map((col, i) => `<rect class="${o.cls ?? 'cell'}" x="${(i % per) * c}" y="${Math.floor(i / per) * c}" width="${c - 1}" height="${c - 1}" fill="${col}"${o.data ? dataAttrs(o.data[i]) : ''} data-tip="${esc(tips[i])}"/>`).join('');
  return `<svg viewBox="0 0 ${W} ${rows * c}" width="${W}" role="img">${cells}</svg>`;
}
