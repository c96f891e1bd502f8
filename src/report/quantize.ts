/**
 * The report of a quantisation: the claim (within E, or the class kept), the proved bound against the largest
 * difference found, each layer's stored type and the bytes its numbers take, the file sizes before and after, the
 * certificate's hashes and the proof's time and boxes. Everything is read from the certificate; `check --report`
 * adds the claim as re-proved (quantChecked).
 */
import type { QuantCertificate } from '../simplify/quantize/certificate.ts';
import type { QuantCheckResult } from '../simplify/quantize/check.ts';
import { badge, change, code, count, dur, esc, facts, num, optRow, page, section, table, type FactRow } from './html.ts';
import { legend, stackedBars, stageBars, type Key } from './svg.ts';

export interface QuantReportInput {
  cert: QuantCertificate;
  certificatePath: string;
  /** the network's layer sizes: its inputs, then each layer's outputs */
  layerSizes: readonly number[];
  /** bytes of the files: the original as given (absent for the embedded network), the same numbers as float32
   * ONNX, and the quantised file */
  files: { original?: number; float32?: number; stored: number };
  version: string;
}

/** How one layer is stored: its weights' and biases' types, and the bytes its numbers take before and after. */
export interface LayerStore {
  layer: number;
  inputs: number;
  outputs: number;
  weights: string;
  biases: string;
  before: number;
  after: number;
}

/** Per layer (from 1): float32 kept, float16 (weights and biases), or int8 weights (a float32 scale and an int8 zero
 * point per tensor or per row) with float32 biases, as onnx-quant-write.ts stores them. */
export function layerStores(cert: QuantCertificate, layerSizes: readonly number[]): LayerStore[] {
  const q = cert.quantized;
  const kept = new Set(q.keepFloat);
  return layerSizes.slice(1).map((outputs, k) => {
    const inputs = layerSizes[k];
    const w = inputs * outputs;
    const before = 4 * (w + outputs);
    const base = { layer: k + 1, inputs, outputs, before };
    if (kept.has(k + 1)) return { ...base, weights: 'float32 (kept)', biases: 'float32 (kept)', after: before };
    if (q.to === 'float16') return { ...base, weights: 'float16', biases: 'float16', after: 2 * (w + outputs) };
    const scales = q.perChannel ? outputs : 1;
    return { ...base, weights: `int8, ${q.perChannel ? 'a scale per row' : 'one scale'}`, biases: 'float32', after: w + 5 * scales + 4 * outputs };
  });
}

/** What the activations are stored as: 'float32', or the scheme a certificate names (`to` or `kind`). */
export function activationText(a: unknown): string {
  if (typeof a === 'string') return a;
  const o = (a ?? {}) as { to?: unknown; kind?: unknown };
  return String(o.to ?? o.kind ?? 'float32');
}

const tolText = (c: QuantCertificate): string => (c.tolerance.kind === 'linf' ? `max |g - f| ≤ ${num(c.tolerance.epsilon)}` : `class kept (${c.tolerance.order}, margin ${num(c.tolerance.margin)})`);

/** The proved bound (its exact part and its float32 rounding) against the largest difference found and E. */
function boundBars(p: { provedBound: number; rounding: number; foundMax: number }, epsilon: number | undefined): string {
  if (!Number.isFinite(p.provedBound)) return '<p class="note">No finite bound: the class claim is proved from the margins.</p>';
  const keys: Key[] = [{ name: 'largest |g - f| found', color: '#f2a541' }, { name: 'proved: exact difference', color: '#2f7fc1' }, { name: 'proved: rounding', color: '#8e6bbf' }, { name: 'epsilon asked', color: '#9aa3b5' }];
  const rows = [
    { label: 'found at a point', values: [p.foundMax, 0, 0, 0], note: num(p.foundMax), data: { what: 'found', value: p.foundMax } },
    { label: 'proved bound', values: [0, Math.max(0, p.provedBound - p.rounding), p.rounding, 0], note: num(p.provedBound), data: { what: 'proved', value: p.provedBound } },
    ...(epsilon !== undefined ? [{ label: 'epsilon', values: [0, 0, 0, epsilon], note: num(epsilon), data: { what: 'epsilon', value: epsilon } }] : []),
  ];
  return legend(keys) + stackedBars(rows, keys, { cls: 'bound', width: 1100 }) +
    '<p class="note">The proof stops once its bound is within epsilon: the bound shown is what it proved, not the smallest one; the found maximum is an exact |g - f| at a point, a lower end of the true one.</p>';
}

function claimFacts(c: QuantCertificate): string {
  const p = c.proof;
  const rows: FactRow[] = [
    ['claim', c.claim],
    ['tolerance', tolText(c)],
    ['verdict', { html: badge('proved') }],
    ['proved by', `${p.method}, ${count(p.boxes, 'box', 'boxes')}${p.maxBoxes !== undefined ? ` (at most ${num(p.maxBoxes)})` : ''}, ${dur(p.timeMs)}`],
    ...optRow(Number.isFinite(p.provedBound), 'proved max |g - f|', () => `${num(p.provedBound)} (of which rounding ${num(p.rounding)})`),
    ['largest |g - f| found', num(p.foundMax)],
    ...optRow(c.auto !== undefined, '--epsilon auto', () => `${num((c.tolerance as { epsilon: number }).epsilon)} proved, ${num(c.auto!.lowerEnd)} not (${c.auto!.steps.length} proofs)`),
    ['domain', `${c.domain.length} box${c.domain.length === 1 ? '' : 'es'} over ${c.domain[0]?.lo.length ?? 0} inputs`],
  ];
  return facts(rows);
}

function layersSection(c: QuantCertificate, stores: LayerStore[]): string {
  if (!stores.length) return `<p class="note">A graph network: its Conv and Gemm weights stored as ${esc(c.quantized.to)}${c.quantized.perChannel ? ' per channel' : ''}.</p>`;
  const keys: Key[] = [{ name: 'float32 before', color: '#9aa3b5' }, { name: 'as stored', color: '#2f7fc1' }];
  const rows = stores.flatMap((s) => [
    { label: `layer ${s.layer} before`, values: [s.before, 0], note: `${num(s.before)} B`, data: { layer: s.layer, side: 'before', bytes: s.before } },
    { label: `layer ${s.layer} ${s.weights.split(',')[0]}`, values: [0, s.after], note: `${num(s.after)} B (${change(s.before, s.after)})`, data: { layer: s.layer, side: 'after', bytes: s.after } },
  ]);
  const tab = table({
    id: 'layers',
    head: ['layer', 'inputs × outputs', 'weights', 'biases', 'bytes before', 'bytes after', 'change'],
    numeric: [0, 4, 5, 6],
    rows: stores.map((s) => [s.layer, `${s.inputs} × ${s.outputs}`, s.weights, s.biases, s.before, s.after, change(s.before, s.after)]),
    rowData: stores.map((s) => ({ layer: s.layer, weights: s.weights, before: s.before, after: s.after })),
  });
  const act = activationText(c.quantized.activations);
  return tab + legend(keys) + stackedBars(rows, keys, { cls: 'layer', unit: ' B' }) +
    `<p class="note">Bytes of each layer's numbers (weights, biases, scales and zero points), without the file's framing. Activations: ${esc(act)}.</p>`;
}

function filesSection(f: QuantReportInput['files']): string {
  const rows: Array<[string, string, number]> = [
    ...(f.original !== undefined ? [['the original file', 'original', f.original] as [string, string, number]] : []),
    ...(f.float32 !== undefined ? [['the same numbers as float32 ONNX', 'float32', f.float32] as [string, string, number]] : []),
    ['the quantised ONNX', 'stored', f.stored],
  ];
  const ref = f.float32 ?? f.original ?? f.stored;
  return table({ id: 'files', head: ['file', 'bytes', 'against float32'], numeric: [1, 2], rows: rows.map(([label, , b]) => [label, b, change(ref, b)]), rowData: rows.map(([, what, b]) => ({ what, bytes: b })) });
}

function hashFacts(o: QuantReportInput): string {
  const c = o.cert;
  return facts([
    ['original', code(c.input.path)],
    ['original sha256', code(c.input.sha256, 'input')],
    ['quantised', code(c.output.path)],
    ['quantised sha256', code(c.output.sha256, 'output')],
    ['certificate', { html: `<code>${esc(o.certificatePath)}</code>; re-check: <code>nnshrink check ${esc(o.certificatePath)}</code>` }],
    ['made by', `${c.tool}, ${c.createdAt}`],
  ]);
}

/** The sections of a quantisation's page after its claim: bound figure, layers, files, certificate. */
export function quantSections(o: QuantReportInput): string[] {
  const c = o.cert;
  return [
    section('Proved bound against the largest difference found', boundBars(c.proof, c.tolerance.kind === 'linf' ? c.tolerance.epsilon : undefined), 'bound'),
    section('Stored type per layer', layersSection(c, layerStores(c, o.layerSizes)), 'layers-section'),
    section('File sizes', filesSection(o.files), 'files-section'),
    section('Certificate', hashFacts(o), 'hashes'),
  ];
}

/** What the certificate's keepFloat numbers (from 1): a chain's layers, a graph's conv / dense nodes. */
const keptText = (c: QuantCertificate): string => {
  const k = c.quantized.keepFloat;
  if (!k.length) return '';
  const what = (c as { network?: string }).network === 'graph' ? 'conv / dense node' : 'layer';
  return `, ${what}${k.length > 1 ? 's' : ''} ${k.join(', ')} kept float32`;
};

const subtitleOf = (c: QuantCertificate): string => `${c.input.path} → ${c.output.path}: ${c.quantized.to}${c.quantized.perChannel ? ' per channel' : ''}${keptText(c)}; ${tolText(c)}`;

/** The data the page was drawn from, for a reader's tools (and the tests). */
const dataOf = (o: QuantReportInput, extra: object = {}): object => ({ kind: 'quantize', tolerance: o.cert.tolerance, quantized: o.cert.quantized, proof: o.cert.proof, files: o.files, layers: layerStores(o.cert, o.layerSizes), ...extra });

/** `quantize --report`: the page of a proved quantisation. */
export function quantizeReport(o: QuantReportInput): string {
  const c = o.cert;
  const stages: Array<[string, number]> = [['proof', c.proof.timeMs], ['other (files, read-back)', Math.max(0, c.totalTimeMs - c.proof.timeMs)]];
  return page({
    kind: 'quantize',
    title: `nnshrink quantize: ${c.input.path}`,
    subtitle: subtitleOf(c),
    sections: [section('The claim and its proof', claimFacts(c), 'claim'), ...quantSections(o), section('Time', stageBars(stages) + `<p class="note">total ${dur(c.totalTimeMs)}</p>`, 'times')],
    data: dataOf(o),
    version: o.version,
  });
}

/** `check --report` of a quantisation certificate: the claim re-proved from the files, then the certificate's record. */
export function quantCheckedSections(o: QuantReportInput, r: QuantCheckResult, timeMs: number): string[] {
  const p = r.proof;
  const rows: FactRow[] = [
    ['claim', r.claim],
    ['verdict', { html: badge(r.verdict.status) }],
    ['proved by', `${r.verdict.method}${p ? `, ${count(p.boxes, 'box', 'boxes')}` : ''}, ${dur(r.verdict.timeMs)}`],
    ...optRow(p !== undefined && Number.isFinite(p.provedBound), 'proved max |g - f|', () => `${num(p!.provedBound)} (of which rounding ${num(p!.rounding)})`),
    ['sampling', `${num(r.sampling.points)} points, largest |g - f| ${num(r.sampling.maxAbsDiff)}`],
    ...optRow(r.verdict.reason !== undefined, 'why', () => r.verdict.reason!),
    ...optRow(r.witness !== undefined, 'counterexample', () => `[${r.witness!.slice(0, 16).map((v) => num(v, 6)).join(', ')}${r.witness!.length > 16 ? ', …' : ''}]`),
  ];
  const stages: Array<[string, number]> = [['sampling and proof', r.verdict.timeMs], ['whole check', timeMs]];
  // the figure shows what this check found: its proof's bound, and the larger of its proof's and its samples' maxima
  const found = Math.max(p?.foundMax ?? 0, r.sampling.maxAbsDiff);
  const shown = p && Number.isFinite(p.provedBound) ? { ...o, cert: { ...o.cert, proof: { ...o.cert.proof, ...p, foundMax: found } } } : o;
  return [section('Verdict', facts(rows), 'claim'), ...quantSections(shown), section('Time', stageBars(stages), 'times')];
}
