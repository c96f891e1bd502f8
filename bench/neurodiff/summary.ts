/**
 * The tables of a side-by-side log (one JSON record per pair): per pair, then proved counts and times per (property,
 * eps). Wall: spawn to exit (nnshrink-dev.js includes tsx compiling the sources, about 1 s idle, more under load);
 * own: the time the tool itself prints (NeuroDiff's "time:", after loading; nnshrink's timeMs).
 */
import type { RunResult } from './run.ts';

export interface Row { id: string; property: number; eps: number; limitS: number; outputs: string; first: string; nd: RunResult; nn: RunResult }

const s = (x: number | undefined): string => (x === undefined ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const g = (x: number | null | undefined): string => (x === undefined || x === null ? '-' : x.toPrecision(3));

const own = (a: RunResult, b: RunResult): string => (a.toolS !== undefined && b.toolS ? (a.toolS / b.toolS).toFixed(2) : '-');

/** Wall seconds, a run not proved counted at its limit (the time it held the core). */
const charged = (r: RunResult, limitS: number): number => (r.verdict === 'proved' || r.verdict === 'refuted' ? r.wallS : Math.max(r.wallS, limitS));

export function pairTable(rows: Row[]): string {
  const out = [
    '| net | prop | eps | limit (s) | NeuroDiff | ND wall / own (s) | ND splits | nnshrink | nn wall / own (s) | nn boxes | nn proved bound | nn largest found | nn / ND wall, own |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const both = r.nd.verdict === 'proved' && r.nn.verdict === 'proved';
    out.push(
      `| ${r.id} | ${r.property} | ${r.eps} | ${r.limitS} | ${r.nd.verdict} | ${s(r.nd.wallS)} / ${s(r.nd.toolS)} | ${r.nd.work ?? '-'} | ${r.nn.verdict} | ${s(r.nn.wallS)} / ${s(r.nn.toolS)} | ${r.nn.work ?? '-'} | ${g(r.nn.provedMax)} | ${g(r.nn.foundMax)} | ${both ? `${(r.nn.wallS / r.nd.wallS).toFixed(2)}, ${own(r.nn, r.nd)}` : '-'} |`,
    );
  }
  return out.join('\n');
}

export function countTable(rows: Row[]): string {
  const keys = [...new Set(rows.map((r) => `${r.property}|${r.eps}`))];
  const out = [
    '| prop | eps | pairs | NeuroDiff proved | nnshrink proved | both | ND wall (s) | nn wall (s) | nn / ND, both proved: wall, own |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const k of keys) {
    const rs = rows.filter((r) => `${r.property}|${r.eps}` === k);
    const nd = rs.filter((r) => r.nd.verdict === 'proved').length;
    const nn = rs.filter((r) => r.nn.verdict === 'proved').length;
    const both = rs.filter((r) => r.nd.verdict === 'proved' && r.nn.verdict === 'proved');
    const tNd = rs.reduce((a, r) => a + charged(r.nd, r.limitS), 0);
    const tNn = rs.reduce((a, r) => a + charged(r.nn, r.limitS), 0);
    const sum = (f: (r: Row) => number): number => both.reduce((a, r) => a + f(r), 0);
    const ratio = both.length ? `${(sum((r) => r.nn.wallS) / sum((r) => r.nd.wallS)).toFixed(2)}, ${(sum((r) => r.nn.toolS ?? NaN) / sum((r) => r.nd.toolS ?? NaN)).toFixed(2)}` : '-';
    const [p, e] = k.split('|');
    out.push(`| ${p} | ${e} | ${rs.length} | ${nd} | ${nn} | ${both.length} | ${tNd.toFixed(1)} | ${tNn.toFixed(1)} | ${ratio} |`);
  }
  const other = rows.filter((r) => r.nd.verdict === 'refuted' || r.nn.verdict === 'refuted' || r.nd.verdict === 'error' || r.nn.verdict === 'error');
  if (other.length) out.push('', `refuted or error: ${other.map((r) => `${r.id} p${r.property} ${r.eps}: ND ${r.nd.verdict}${r.nd.note ? ` (${r.nd.note})` : ''}, nn ${r.nn.verdict}${r.nn.note ? ` (${r.nn.note})` : ''}`).join('; ')}`);
  return out.join('\n');
}
