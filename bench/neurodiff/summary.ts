/**
 * The tables of a side-by-side log (one JSON record per pair): per pair, then proved counts and times per (property,
 * eps). cpu: user + sys seconds of the process (the ratios use it: on a shared machine the wall clock mostly
 * measures the load); wall: spawn to exit; own: the time the tool prints itself (NeuroDiff's "time:", after
 * loading the networks; nnshrink's timeMs). nnshrink-dev.js's cpu and wall include tsx compiling the sources
 * (about 2 s of cpu; the compiled bin/nnshrink.js starts in 0.25 s).
 */
import type { RunResult } from './run.ts';

export interface Row {
  id: string;
  property: number;
  eps: number;
  limitS: number;
  outputs: string;
  first: string;
  /** the machine's 1-minute load average when the pair ended */
  load1?: number;
  nd: RunResult;
  nn: RunResult;
}

const s = (x: number | undefined): string => (x === undefined ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const g = (x: number | null | undefined): string => (x === undefined || x === null ? '-' : x.toPrecision(3));
const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b ? (a / b).toFixed(2) : '-');
const done = (r: RunResult): boolean => r.verdict === 'proved' || r.verdict === 'refuted';

export function pairTable(rows: Row[]): string {
  const out = [
    '| net | prop | eps | limit (s) | NeuroDiff | ND cpu / wall / own (s) | ND splits | nnshrink | nn cpu / wall / own (s) | nn boxes | nn proved bound | nn largest found | nn / ND cpu |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const t = (r: RunResult): string => `${s(r.cpuS)} / ${s(r.wallS)} / ${s(r.toolS)}`;
  for (const r of rows) {
    const both = done(r.nd) && done(r.nn);
    out.push(
      `| ${r.id} | ${r.property} | ${r.eps} | ${r.limitS} | ${r.nd.verdict} | ${t(r.nd)} | ${r.nd.work ?? '-'} | ${r.nn.verdict} | ${t(r.nn)} | ${r.nn.work ?? '-'} | ${g(r.nn.provedMax)} | ${g(r.nn.foundMax)} | ${both ? ratio(r.nn.cpuS, r.nd.cpuS) : '-'} |`,
    );
  }
  return out.join('\n');
}

export function countTable(rows: Row[]): string {
  const keys = [...new Set(rows.map((r) => `${r.property}|${r.eps}`))];
  const out = [
    '| prop | eps | pairs | NeuroDiff proved | nnshrink proved | both | only ND | only nn | ND cpu (s) | nn cpu (s) | both proved: nn / ND cpu, own |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const k of keys) {
    const rs = rows.filter((r) => `${r.property}|${r.eps}` === k);
    const nd = rs.filter((r) => r.nd.verdict === 'proved').length;
    const nn = rs.filter((r) => r.nn.verdict === 'proved').length;
    const both = rs.filter((r) => r.nd.verdict === 'proved' && r.nn.verdict === 'proved');
    const sum = (xs: Row[], f: (r: Row) => number | undefined): number => xs.reduce((a, r) => a + (f(r) ?? NaN), 0);
    const r2 = both.length ? `${ratio(sum(both, (r) => r.nn.cpuS), sum(both, (r) => r.nd.cpuS))}, ${ratio(sum(both, (r) => r.nn.toolS), sum(both, (r) => r.nd.toolS))}` : '-';
    const [p, e] = k.split('|');
    out.push(
      `| ${p} | ${e} | ${rs.length} | ${nd} | ${nn} | ${both.length} | ${nd - both.length} | ${nn - both.length} | ${sum(rs, (r) => r.nd.cpuS).toFixed(1)} | ${sum(rs, (r) => r.nn.cpuS).toFixed(1)} | ${r2} |`,
    );
  }
  const other = rows.filter((r) => r.nd.verdict === 'refuted' || r.nn.verdict === 'refuted' || r.nd.verdict === 'error' || r.nn.verdict === 'error');
  if (other.length) out.push('', `refuted or error: ${other.map((r) => `${r.id} p${r.property} ${r.eps}: ND ${r.nd.verdict}${r.nd.note ? ` (${r.nd.note})` : ''}, nn ${r.nn.verdict}${r.nn.note ? ` (${r.nn.note})` : ''}`).join('; ')}`);
  return out.join('\n');
}
