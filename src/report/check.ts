/**
 * The report of `check`: the claim proved afresh (or not), the verdict, how it was proved, the times, and the
 * hashes of the two files the certificate names; for a slice family, one row per slice certificate; for a
 * quantisation, also its layers' stored types and the file sizes (quantize.ts).
 */
import type { Certificate } from '../simplify/certificate.ts';
import type { FinalCheckResult } from '../simplify/final-check.ts';
import type { GraphCertificate } from '../simplify/graph/certificate.ts';
import type { GraphCheckResult } from '../simplify/graph/check.ts';
import type { GraphClassCheckResult } from '../simplify/graph/class-check.ts';
import { badge, code, count, dur, facts, num, optRow, page, section, table, type FactRow } from './html.ts';
import type { QuantCheckResult } from '../simplify/quantize/check.ts';
import { stageBars } from './svg.ts';
import { quantCheckedSections, type QuantReportInput } from './quantize.ts';

type Status = 'proved' | 'refuted' | 'unknown';

/** What was checked and what came of it: a prune certificate, a graph prune's, or a slice family. */
export type CheckSubject =
  | { kind: 'chain'; cert: Certificate; result: FinalCheckResult & { vacuous?: string } }
  | { kind: 'graph'; cert: GraphCertificate; result: GraphCheckResult | GraphClassCheckResult }
  | { kind: 'family'; source: string; ok: boolean; slices: Array<{ slice: number; ok: boolean; covers: boolean; claim: string; check: FinalCheckResult }> }
  | ({ kind: 'quantize'; result: QuantCheckResult } & Omit<QuantReportInput, 'certificatePath' | 'version'>)
  | ({ kind: 'prune-quantize'; pruneCert: Certificate; result: EndToEndResult } & Omit<QuantReportInput, 'certificatePath' | 'version'>);

/** prune --quantize's check: the end-to-end claim max |f - q| <= D + E and its two parts, each re-proved. */
export interface EndToEndResult {
  claim: string;
  verdict: { status: Status; method: string; timeMs: number };
  prune: FinalCheckResult & { vacuous?: string };
  quantize: QuantCheckResult;
}

export type CheckReportInput = { certificate: string; timeMs: number; version: string } & CheckSubject;

function hashes(c: { input: { path: string; sha256: string }; output: { path: string; sha256: string } }): FactRow[] {
  return [
    ['original', code(c.input.path)],
    ['original sha256', code(c.input.sha256, 'input')],
    ['pruned', code(c.output.path)],
    ['pruned sha256', code(c.output.sha256, 'output')],
  ];
}

function chainFacts(r: FinalCheckResult & { vacuous?: string }): FactRow[] {
  return [
    ['proved by', `${r.verdict.method}${r.verdict.boxes !== undefined ? `, ${count(r.verdict.boxes, 'box', 'boxes')}` : ''}`],
    ...optRow(r.provedBound !== undefined, 'proved max |f-g|', () => num(r.provedBound!)),
    ...optRow(r.phaseFacts !== undefined, 'phase facts re-proved', () => `${r.phaseFacts!.reproved} of ${r.phaseFacts!.claimed}`),
    ['sampling', `${num(r.sampling.points)} points, largest |f-g| ${num(r.sampling.maxAbsDiff)}`],
    ...optRow(r.verdict.reason !== undefined, 'why', () => r.verdict.reason!),
    ...optRow(r.witness !== undefined, 'counterexample', () => `[${r.witness!.map((v) => num(v, 6)).join(', ')}]`),
    ...optRow(r.vacuous !== undefined, 'warning', () => `the claim is vacuous: ${r.vacuous}`),
  ];
}

function graphFacts(r: GraphCheckResult | GraphClassCheckResult): FactRow[] {
  const how = 'facts' in r ? `${r.facts.reproved} of ${r.facts.claimed} removed channels re-proved zero` : `f's winner ${r.winner ?? '?'}; leads proved for ${r.margins?.filter((m) => m.g > -Infinity).length ?? 0} outputs`;
  const sampled = 'maxAbsDiff' in r.sampling ? `largest |f-g| ${num(r.sampling.maxAbsDiff)}` : `smallest lead of the winner in g ${num(r.sampling.minLeadG)}`;
  return [
    ['proved by', `${r.verdict.method}: ${how}`],
    ['sampling', `${num(r.sampling.points)} points, ${sampled}`],
    ...optRow(r.verdict.reason !== undefined, 'why', () => r.verdict.reason!),
    ...optRow(r.witness !== undefined, 'counterexample', () => `[${r.witness!.slice(0, 16).map((v) => num(v, 6)).join(', ')}${r.witness!.length > 16 ? ', …' : ''}]`),
  ];
}

function single(o: CheckReportInput & { kind: 'chain' | 'graph' }): { status: Status; claim: string; body: string[] } {
  const r = o.result;
  const stages: Array<[string, number]> =
    o.kind === 'chain'
      ? [...(o.result.phaseFacts ? [['phase facts', o.result.phaseFacts.timeMs] as [string, number]] : []), ...(o.result.classMargins ? [['class margins', o.result.classMargins.timeMs] as [string, number]] : []), ['proof', r.verdict.timeMs]]
      : [...('facts' in o.result ? [['fresh census of the removed channels', o.result.facts.timeMs] as [string, number]] : []), ['proof', r.verdict.timeMs]];
  stages.push(['whole check', o.timeMs]);
  const rows: FactRow[] = [['claim', r.claim], ['verdict', { html: badge(r.verdict.status) }], ...(o.kind === 'chain' ? chainFacts(o.result) : graphFacts(o.result))];
  return {
    status: r.verdict.status,
    claim: r.claim,
    body: [
      section('Verdict', facts(rows), 'claim'),
      section('Certificate', facts([['certificate', code(o.certificate)], ['made by', `${o.cert.tool}, ${o.cert.createdAt}`], ...hashes(o.cert)]), 'hashes'),
      section('Time', stageBars(stages), 'times'),
    ],
  };
}

function family(o: CheckReportInput & { kind: 'family' }): { status: Status; claim: string; body: string[] } {
  const status: Status = o.ok ? 'proved' : o.slices.some((s) => s.check.verdict.status === 'refuted') ? 'refuted' : 'unknown';
  const claim = `every slice certificate of ${o.certificate} holds and covers what the dispatcher sends its slice`;
  const rows = o.slices.map((s) => [s.slice, { html: badge(s.ok ? 'proved' : s.check.verdict.status) }, s.covers ? 'yes' : 'no', s.check.verdict.method, s.check.verdict.timeMs / 1000, s.claim]);
  const tab = table({ id: 'slices', head: ['slice', 'verdict', 'covers its box', 'method', 'time (s)', 'claim'], numeric: [0, 4], rows, rowData: o.slices.map((s) => ({ slice: s.slice, ok: String(s.ok) })) });
  return {
    status,
    claim,
    body: [
      section('Verdict', facts([['claim', claim], ['verdict', { html: badge(status) }], ['source sha256', code(o.source, 'input')], ['slices checked', o.slices.length], ['time', dur(o.timeMs)]]), 'claim'),
      section('Slices', tab, 'slices'),
    ],
  };
}

function quantized(o: CheckReportInput & { kind: 'quantize' }): { status: Status; claim: string; body: string[] } {
  return { status: o.result.verdict.status, claim: o.result.claim, body: quantCheckedSections({ ...o, certificatePath: o.certificate }, o.result, o.timeMs) };
}

/** The end-to-end verdict first, then the prune part (f against the pruned p), then the quantisation part (p against q). */
function endToEnd(o: CheckReportInput & { kind: 'prune-quantize' }): { status: Status; claim: string; body: string[] } {
  const r = o.result;
  const top: FactRow[] = [
    ['claim', r.claim],
    ['verdict', { html: badge(r.verdict.status) }],
    ['how', r.verdict.method],
    ['prune part', { html: `${badge(r.prune.verdict.status)} ${r.prune.claim}` }],
    ['quantisation part', { html: `${badge(r.quantize.verdict.status)} ${r.quantize.claim}` }],
  ];
  const prunePart = facts([['claim', r.prune.claim], ['verdict', { html: badge(r.prune.verdict.status) }], ...chainFacts(r.prune), ...hashes(o.pruneCert)]);
  // the quantisation part's own sections, with ids of their own (the page's first section is the end-to-end claim)
  const quant = quantCheckedSections({ ...o, certificatePath: o.certificate }, r.quantize, o.timeMs).map((h) => h.replace(/id="(\w+)"/, 'id="quantize-$1"'));
  return { status: r.verdict.status, claim: r.claim, body: [section('End-to-end claim', facts(top), 'claim'), section('Prune part: f against the pruned network', prunePart, 'prune-part'), ...quant] };
}

const KIND_NAMES = { family: 'slice family', graph: 'graph prune certificate', chain: 'prune certificate', quantize: 'quantisation certificate', 'prune-quantize': 'prune and quantise certificate' } as const;

export function checkReport(o: CheckReportInput): string {
  const r = o.kind === 'family' ? family(o) : o.kind === 'quantize' ? quantized(o) : o.kind === 'prune-quantize' ? endToEnd(o) : single(o);
  return page({
    kind: 'check',
    title: `nnshrink check: ${o.certificate}`,
    subtitle: `${KIND_NAMES[o.kind]}: ${r.status.toUpperCase()}`,
    sections: r.body,
    data: { kind: 'check', certificateKind: o.kind, status: r.status, claim: r.claim },
    version: o.version,
  });
}
