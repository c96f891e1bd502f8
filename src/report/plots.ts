/**
 * The reports' plots with axes: a histogram, a cactus plot, rectangles in a plane, and a colour bar. Each draws in
 * its own viewBox (scaled to the page by CSS); every mark carries its figures as data attributes and a data-tip.
 */
import { dataAttrs, esc, num } from './html.ts';
import { niceTop, seqColor, STOPS, ticks } from './svg.ts';

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
  const top = niceTop(Math.max(...counts));
  const Y = sy(f, 0, top);
  const bars = counts
    .map((c, i) => {
      const a = x0 + i * width;
      const b = a + width;
      const tip = `${num(a, 4)} to ${num(b, 4)}: ${c}`;
      return `<rect class="bin" x="${X(a) + 1}" y="${Y(c)}" width="${Math.max(1, X(b) - X(a) - 2)}" height="${Y(0) - Y(c)}" fill="${o.color ?? '#3b528b'}"${dataAttrs({ lo: a, hi: b, count: c })} data-tip="${esc(tip)}"/>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${f.W} ${f.H}" width="${f.W}" role="img">${axes(f, [x0, x1], [0, top], o.xLabel, o.yLabel ?? 'count')}${bars}</svg>`;
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
  const ymax = niceTop(Math.max(1e-3, ...series.flatMap((s) => s.times)));
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

