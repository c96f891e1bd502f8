/**
 * The report of an FC prune: per hidden layer its neurons by what became of them, sizes before and after, the claim
 * and how it was proved, the certificate's hashes, and the time of each stage. Everything is read from the
 * certificate (what `check` re-proves) and the run's tolerance-search statistics.
 */
import type { SizeMetrics } from '../model/network.ts';
import type { Certificate } from '../simplify/certificate.ts';
import type { ToleranceSearchStats } from '../simplify/prune.ts';
import { KEEP, LINEAR, MERGED, REMOVED } from '../simplify/edits.ts';
import { badge, code, count, change, dur, esc, facts, num, optRow, page, section, table, type FactRow } from './html.ts';
import { legend, stackedBars, stageBars, type Key } from './svg.ts';

export interface PruneReportInput {
  model: string;
  output: string;
  certificatePath: string;
  cert: Certificate;
  toleranceSearch?: ToleranceSearchStats;
  vacuous?: string;
  version: string;
}

/** What became of a neuron, in the order the bars stack them. */
export const NEURON_REASONS = ['never active', 'always active / linear', 'merged', 'tolerance', 'kept'] as const;
export type NeuronReason = (typeof NEURON_REASONS)[number];

const REASON_KEYS: Key[] = [
  { name: 'never active', color: '#9aa3b5' },
  { name: 'always active / linear', color: '#f2a541' },
  { name: 'merged', color: '#8e6bbf' },
  { name: 'tolerance', color: '#e0605e' },
  { name: 'kept', color: '#2f7fc1' },
];

/** Per hidden layer of the original, how many neurons went for each reason (the edits say what, the steps why). */
export function neuronReasons(cert: Certificate): Array<Record<NeuronReason, number>> {
  const why = new Map(cert.steps.map((s) => [`${s.layer}:${s.neuron}`, s.kind] as const));
  return cert.edits.state.slice(0, -1).map((states, k) => {
    const c: Record<NeuronReason, number> = { 'never active': 0, 'always active / linear': 0, merged: 0, tolerance: 0, kept: 0 };
    states.forEach((s, j) => {
      const kind = why.get(`${k}:${j}`) ?? '';
      // a step made within the tolerance is counted as such, whatever it did to the neuron
      if (kind.startsWith('tolerance')) c.tolerance++;
      else if (s === KEEP) c.kept++;
      else if (s === REMOVED) c['never active']++;
      else if (s === LINEAR) c['always active / linear']++;
      else if (s === MERGED) c.merged++;
      else c.tolerance++;
    });
    return c;
  });
}

/** The sizes table's rows: the label, the row's data-what (what the tests read), the size it shows. */
const SIZE_ROWS: Array<[label: string, what: string, size: Exclude<keyof SizeMetrics, 'layerSizes'>]> = [
  ['parameters', 'parameters', 'parameters'],
  ['multiply-adds', 'multiply-adds', 'multiplyAdds'],
  ['hidden neurons', 'neurons', 'neurons'],
  ['ReLU neurons', 'relu', 'reluNeurons'],
  ['layers', 'layers', 'layers'],
];

function sizesTable(cert: Certificate): string {
  const b = cert.input.sizes;
  const a = cert.output.sizes;
  return table({
    id: 'sizes',
    head: ['', 'before', 'after', 'change'],
    numeric: [1, 2, 3],
    rows: SIZE_ROWS.map(([label, , k]) => [label, b[k], a[k], change(b[k], a[k])]),
    rowData: SIZE_ROWS.map(([, what, k]) => ({ what, before: b[k], after: a[k] })),
  });
}

function sizeBars(cert: Certificate): string {
  const b = cert.input.sizes;
  const a = cert.output.sizes;
  const keys: Key[] = [{ name: 'before', color: '#9aa3b5' }, { name: 'after', color: '#2f7fc1' }];
  const rows = [
    { label: 'parameters before', values: [b.parameters, 0], note: num(b.parameters) },
    { label: 'parameters after', values: [0, a.parameters], note: `${num(a.parameters)} (${change(b.parameters, a.parameters)})` },
    { label: 'multiply-adds before', values: [b.multiplyAdds, 0], note: num(b.multiplyAdds) },
    { label: 'multiply-adds after', values: [0, a.multiplyAdds], note: `${num(a.multiplyAdds)} (${change(b.multiplyAdds, a.multiplyAdds)})` },
  ];
  return legend(keys) + stackedBars(rows, keys, { cls: 'size', width: 560 });
}

function claimFacts(cert: Certificate, vacuous?: string): string {
  const c = cert.finalCheck;
  const rows: FactRow[] = [
    ['claim', c.claim],
    ['verdict', { html: badge(c.verdict.status) }],
    ['proved by', `${c.verdict.method}${c.verdict.boxes !== undefined ? `, ${count(c.verdict.boxes, 'box', 'boxes')}` : ''}, ${dur(c.verdict.timeMs)}`],
    ...optRow(c.provedBound !== undefined, 'proved max |f-g|', () => num(c.provedBound!)),
    ...optRow(c.phaseFacts !== undefined, 'phase facts re-proved', () => `${c.phaseFacts!.reproved} of ${c.phaseFacts!.claimed} (${count(c.phaseFacts!.boxes, 'box', 'boxes')}, ${dur(c.phaseFacts!.timeMs)})`),
    ['refactoring bound', num(c.refactorBound)],
    ['sampling', `${num(c.sampling.points)} points, largest |f-g| ${num(c.sampling.maxAbsDiff)}${c.sampling.classDisagreements !== undefined ? `, ${c.sampling.classDisagreements} class disagreements` : ''}`],
    ['exact slack', num(cert.floatingPoint.exactTolerance)],
    ['domain', `${cert.domain.length} box${cert.domain.length === 1 ? '' : 'es'} over ${cert.domain[0]?.lo.length ?? 0} inputs`],
    ...optRow(vacuous !== undefined, 'warning', () => `the claim is vacuous: ${vacuous}`),
  ];
  return facts(rows);
}

function hashFacts(o: PruneReportInput): string {
  const c = o.cert;
  return facts([
    ['original', code(o.model)],
    ['original sha256', code(c.input.sha256, 'input')],
    ['pruned', { html: `<code>${esc(o.output)}</code> (${esc(c.output.precision)})` }],
    ['pruned sha256', code(c.output.sha256, 'output')],
    ['certificate', { html: `<code>${esc(o.certificatePath)}</code>; re-check: <code>nnshrink check ${esc(o.certificatePath)}</code>` }],
  ]);
}

function stageTimes(o: PruneReportInput): string {
  const c = o.cert;
  const stages: Array<[string, number]> = [
    ['phase census', c.census.timeMs],
    ...(o.toleranceSearch ? [['tolerance search', o.toleranceSearch.timeMs] as [string, number]] : []),
    ...(c.finalCheck.phaseFacts ? [['final check: phase facts', c.finalCheck.phaseFacts.timeMs] as [string, number]] : []),
    ...(c.finalCheck.classMargins ? [['final check: class margins', c.finalCheck.classMargins.timeMs] as [string, number]] : []),
    ['final check: proof', c.finalCheck.verdict.timeMs],
  ];
  const named = stages.reduce((s, [, ms]) => s + ms, 0);
  stages.push(['other (reading, sampling, writing)', Math.max(0, c.totalTimeMs - named)]);
  return stageBars(stages) + `<p class="note">total ${dur(c.totalTimeMs)}</p>`;
}

export function pruneReport(o: PruneReportInput): string {
  const c = o.cert;
  const reasons = neuronReasons(c);
  const sizesBefore = c.input.sizes.layerSizes;
  const rows = reasons.map((r, k) => {
    const after = r.kept + r['always active / linear'];
    return {
      label: `layer ${k + 1}`,
      values: NEURON_REASONS.map((n) => r[n]),
      note: `${sizesBefore[k + 1]} → ${after} left`,
      data: { layer: k + 1, total: sizesBefore[k + 1], never: r['never active'], linear: r['always active / linear'], merged: r.merged, tolerance: r.tolerance, kept: r.kept },
    };
  });
  const t = c.tolerance;
  const tol = t.kind === 'exact' ? 'exact' : t.kind === 'linf' ? `max |f-g| ≤ ${num(t.epsilon)}` : `class (${t.order}, margin ${num(t.margin)})`;
  const layers = section(
    'Neurons per layer',
    legend(REASON_KEYS) + stackedBars(rows, REASON_KEYS, { cls: 'layer' }) +
      `<p class="note">Bars: the original's hidden layers; "left" counts the neurons still in the pruned network (kept ReLUs and linear ones) before linear layers are folded. Written layer sizes: ${c.output.sizes.layerSizes.join(' × ')} (original ${sizesBefore.join(' × ')}).</p>`,
    'layers',
  );
  return page({
    kind: 'prune',
    title: `nnshrink prune: ${o.model}`,
    subtitle: `${o.model} → ${o.output}; tolerance ${tol}; census ${c.census.never} never, ${c.census.always} always, ${c.census.both} both, ${c.census.unknown} unknown`,
    sections: [
      layers,
      section('Size before and after', `<div class="grid2"><div>${sizesTable(c)}</div><div>${sizeBars(c)}</div></div>`, 'sizes-section'),
      section('The claim and its proof', claimFacts(c, o.vacuous), 'claim'),
      section('Certificate', hashFacts(o), 'hashes'),
      section('Time per stage', stageTimes(o), 'times'),
    ],
    data: { kind: 'prune', before: c.input.sizes, after: c.output.sizes, census: c.census, layers: rows.map((r) => r.data), finalCheck: c.finalCheck, tolerance: c.tolerance },
    version: o.version,
  });
}
