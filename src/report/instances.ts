/**
 * The report of `verify --instances`: the verdict of every instance in a table, the tally, and a cactus plot (the
 * k-th fastest decided instance's time against k), the usual way to compare verifiers on a benchmark.
 */
import { badge, dur, facts, page, section, table } from './html.ts';
import { legend, type Key } from './svg.ts';
import { cactus } from './plots.ts';

export interface InstanceRow {
  model: string;
  property: string;
  /** as the result file says it: sat, unsat, unknown, timeout */
  verdict: string;
  timeMs: number;
  boxes: number;
  reason?: string;
}

export interface InstancesReportInput {
  list: string;
  rows: InstanceRow[];
  version: string;
}

const SERIES: Key[] = [
  { name: 'decided (sat + unsat)', color: '#2f7fc1' },
  { name: 'unsat', color: '#21918c' },
  { name: 'sat', color: '#e0605e' },
];

export function instancesReport(o: InstancesReportInput): string {
  const times = (pred: (r: InstanceRow) => boolean): number[] => o.rows.filter(pred).map((r) => r.timeMs / 1000);
  const decided = (r: InstanceRow): boolean => r.verdict === 'sat' || r.verdict === 'unsat';
  const tally: Record<string, number> = {};
  for (const r of o.rows) tally[r.verdict] = (tally[r.verdict] ?? 0) + 1;
  const total = o.rows.reduce((s, r) => s + r.timeMs, 0);
  const summary = facts([
    ['instance list', o.list],
    ['instances', o.rows.length],
    ['verdicts', Object.entries(tally).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'],
    ['time (sum of instances)', dur(total)],
  ]);
  const plot = cactus(
    [
      { ...SERIES[0], times: times(decided) },
      { ...SERIES[1], times: times((r) => r.verdict === 'unsat') },
      { ...SERIES[2], times: times((r) => r.verdict === 'sat') },
    ],
    { total: o.rows.length, yLabel: 'time (s)' },
  );
  const rows = o.rows.map((r) => [r.model, r.property, { html: badge(r.verdict) }, r.timeMs / 1000, r.boxes, r.reason ?? '']);
  const tab = table({
    id: 'verdicts',
    head: ['model', 'property', 'verdict', 'time (s)', 'boxes', 'note'],
    numeric: [3, 4],
    rows,
    rowData: o.rows.map((r, i) => ({ row: i, verdict: r.verdict, ms: r.timeMs })),
  });
  return page({
    kind: 'instances',
    title: `nnshrink verify --instances: ${o.list}`,
    subtitle: `${o.rows.length} instances; ${o.rows.filter(decided).length} decided`,
    sections: [
      section('Summary', summary, 'summary'),
      section('Instances decided against time', legend(SERIES) + `<div id="cactus">${plot}</div><p class="note">A point (k, t): k instances were decided within t seconds each. Unknown and timeout are not drawn.</p>`, 'cactus-section'),
      section('Verdicts', tab, 'table'),
    ],
    data: { kind: 'instances', tally, rows: o.rows.map((r) => ({ model: r.model, property: r.property, verdict: r.verdict, timeMs: r.timeMs })) },
    version: o.version,
  });
}
