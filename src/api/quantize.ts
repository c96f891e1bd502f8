/**
 * `quantize(model, options)`: a chain stored in float16 or int8 ONNX (weights; activations float32 unless asked), its claim
 * proved about the network read back from the bytes to be written, evaluated in float32, before anything is written.
 */
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import { parseOnnx } from '../formats/onnx-read.ts';
import { onnxBytes } from '../formats/onnx-write.ts';
import { quantOnnxBytes } from '../formats/onnx-quant-write.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import type { Box } from '../model/box.ts';
import type { Network } from '../model/network.ts';
import { crownBounds } from '../bounds/backward.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { sha256Of } from '../simplify/graph/certificate.ts';
import { pathForCertificate } from '../simplify/certificate.ts';
import { claimText, domainToJSON, QUANT_CERTIFICATE_FORMAT, type QuantAsk, type QuantCertificate, type QuantTolerance } from '../simplify/quantize/certificate.ts';
import { autoEpsilon, proveQuantized, proveQuantizedClass, type AutoEpsilon, type ProveOptions, type QuantProof } from '../simplify/quantize/prove.ts';
import { blameLayers, type Blame } from '../simplify/quantize/blame.ts';
import { DEFAULT_PATH, readChain } from '../simplify/quantize/read.ts';
import { storeNetwork, storedNetwork, type QuantSpec } from '../simplify/quantize/values.ts';
import { actClaim, calibrateScheme, quantizesActivations, schemeRecord, type ActScheme, type ActTarget } from '../simplify/quantize/activations.ts';
import { readStoredActivations } from '../simplify/quantize/read-act.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { NnsError, fail } from '../errors.ts';
import { VERSION } from '../version.ts';
import { fmt } from '../errors.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';
import { quantizeGraphRun, readGraphModel } from './quantize-graph.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Model } from './prune.ts';

export type { QuantAsk };

/** The options of {@link quantize}. */
export interface QuantizeOptions extends RunOptions {
  /** float16, or int8 in ONNX's QDQ form */
  to: QuantSpec['to'];
  /** int8: a scale per output row instead of per tensor */
  perChannel?: boolean;
  /** layers (from 0) kept in float32 */
  keepFloat?: readonly number[];
  tolerance: QuantAsk;
  /** how the hidden outputs are stored: float32 (default), int8 (uint8 QuantizeLinear / DequantizeLinear after each
   * hidden ReLU, one scale per layer calibrated on domain samples) or float16 (Cast and back); a layer kept float32
   * keeps its output float32 */
  activations?: ActTarget;
  /** the input domain (default: the model file's own) */
  domain?: Box | Box[];
  /** where the quantised ONNX goes */
  output: string;
  /** its certificate (default `${output}.certificate.json`) */
  certificate?: string;
  /** the proof's time limit in milliseconds (default 60,000) */
  timeoutMs?: number;
  /** the work limit (boxes) of one proof (default 2000): its answer then does not depend on the machine's pace */
  maxBoxes?: number;
  /** false: prove without writing (default true) */
  write?: boolean;
}

/** What {@link quantize} gives back: the network as the file holds it, its certificate, the sizes. */
export interface Quantized {
  /** the chain, or the graph (a CNN's ONNX), as the file holds it */
  network: Network | Graph;
  certificate: QuantCertificate;
  /** the epsilon proved (auto: the bisection's) or 0 for a class claim */
  epsilon: number;
  proof: QuantProof;
  auto?: AutoEpsilon;
  sizes: { float32Bytes: number; bytes: number };
}

/** A run that did not prove its claim: why, and what holds it back (each layer kept float32 alone, a mixed choice). */
export interface QuantNotProved {
  proof: QuantProof;
  blame: Blame | null;
  /** the one line the CLI ends with */
  message: string;
}

/**
 * The bytes to write and the network read back from them (what the proof is about), bit for bit what was meant;
 * with its stored activations' scheme as read back (scales calibrated on g, the network of the stored weights).
 */
function writtenFile(model: LoadedModel, spec: QuantSpec, domain: Box[], out: string, target: ActTarget): { bytes: Uint8Array; g: Network; act: ActScheme; float32Bytes: number } {
  const f = model.network;
  const stored = storeNetwork(f, spec);
  const meant = storedNetwork(f, stored);
  const act = calibrateScheme(meant, domain, target, spec.keepFloat);
  const save = { domain: domain.length === 1 ? domain[0] : undefined, inputShape: model.inputShape, source: model.onnx };
  const meta = { to: spec.to, perChannel: spec.perChannel, keepFloat: spec.keepFloat.map((k) => k + 1), activations: target };
  const bytes = quantOnnxBytes(f, stored, save, meta, quantizesActivations(act) ? act : undefined);
  const back = quantizesActivations(act) ? readStoredActivations(bytes, out) : null;
  const g = back ? back.model.network : parseOnnx(bytes, out).network;
  const same = g.layers.every((L, k) => L.weights.every((w, i) => Object.is(w, meant.layers[k].weights[i])) && L.bias.every((b, i) => Object.is(b, meant.layers[k].bias[i])));
  // the scheme the proof takes is the one read back (it adds what the file implies, e.g. the fused kernel's bias step)
  const read = back?.act ?? act;
  const sameAct = act.every((a, k) => a.kind === read[k].kind && (a.kind !== 'uint8' || (read[k] as { scale: number }).scale === a.scale));
  if (!same || !sameAct) throw new Error('the quantised file does not read back as the stored numbers');
  return { bytes, g, act: read, float32Bytes: onnxBytes(f, { ...save, precision: 'float32' }).length };
}

function proveAsked(f: Network, g: Network, domain: Box[], ask: QuantAsk, opts: ProveOptions): { proof: QuantProof; epsilon: number; auto?: AutoEpsilon } {
  if (ask.kind === 'class') return { proof: proveQuantizedClass(f, g, domain, ask.order, ask.margin, opts), epsilon: 0 };
  if (ask.kind === 'linf') return { proof: proveQuantized(f, g, domain, ask.epsilon, opts), epsilon: ask.epsilon };
  const auto = autoEpsilon(f, g, domain, opts);
  if ('failed' in auto) return { proof: auto.failed, epsilon: 0 };
  return { proof: auto.proof, epsilon: auto.epsilon, auto };
}

/** A proof without its witness (a certificate and --json carry none). */
export const withoutWitness = (p: QuantProof): Omit<QuantProof, 'witness'> => {
  const { witness: _w, ...rest } = p;
  return rest;
};

/** What holds a claim back: each layer's bound when it alone stays float32, and a mixed choice that passes. */
function notProved(f: Network, spec: QuantSpec, domain: Box[], ask: QuantAsk, proof: QuantProof, opts: ProveOptions): QuantNotProved {
  const blame = ask.kind === 'auto' ? null : blameLayers(f, spec, domain, ask, opts);
  const layers = blame?.perLayer.map((p) => `layer ${p.layer + 1} float32: ${ask.kind === 'class' ? p.status : Number.isFinite(p.provedBound) ? `<= ${fmt(p.provedBound)}` : 'nothing proved'}`).join(', ');
  const mixed = blame?.mixed ? `--keep-float ${blame.mixed.map((k) => k + 1).join(',')} passes` : 'no mixed choice passes';
  return { proof, blame, message: `not proved (${proof.reason ?? proof.status}); nothing written` + (blame ? `; ${layers}; ${mixed}` : '') };
}

/** The run: proved (the files to write, as one set) or not (why). */
export async function quantizeRun(
  path: string,
  view: 'raw' | 'normalized',
  domainOf: (m: LoadedModel) => Box[],
  o: Omit<QuantizeOptions, 'domain' | 'certificate'> & { certificate: string },
): Promise<{ proved: Quantized; files: Array<{ path: string; data: Uint8Array | string }> } | { notProved: QuantNotProved }> {
  // a graph network (a CNN's ONNX): its own run (quantize-graph.ts)
  const graph = path === DEFAULT_PATH ? undefined : readGraphModel(path);
  if (graph) return quantizeGraphRun(path, graph, domainOf, o);
  const { model, sha256 } = readChain(path, view);
  const f = model.network;
  const domain = domainOf(model);
  const spec: QuantSpec = { to: o.to, perChannel: o.perChannel === true, keepFloat: [...new Set(o.keepFloat ?? [])].sort((a, b) => a - b) };
  await loadMilpSolver();
  const opts: ProveOptions = { boundsFn: crownBounds, outputLinearLower, timeoutMs: o.timeoutMs ?? 60_000, maxBoxes: o.maxBoxes ?? 2000, seed: 1 };
  const t0 = Date.now();
  reporter(o)({ stage: `quantize: ${spec.to}`, done: 0, total: 0 });
  const target = o.activations ?? 'float32';
  const written = writtenFile(model, spec, domain, o.output, target);
  if (quantizesActivations(written.act)) opts.act = written.act;
  const answer = proveAsked(f, written.g, domain, o.tolerance, opts);
  await checkpoint(o.signal);
  if (answer.proof.status !== 'proved') return { notProved: notProved(f, spec, domain, o.tolerance, answer.proof, opts) };
  const tolerance: QuantTolerance = o.tolerance.kind === 'auto' ? { kind: 'linf', epsilon: answer.epsilon } : o.tolerance;
  const cert: QuantCertificate = {
    format: QUANT_CERTIFICATE_FORMAT,
    version: 1,
    tool: `nnshrink ${VERSION}`,
    createdAt: new Date().toISOString(),
    input: { path: path === DEFAULT_PATH ? path : pathForCertificate(o.certificate, path), sha256, ...(model.format === 'nnet' ? { view } : {}) },
    output: { path: pathForCertificate(o.certificate, o.output), sha256: sha256Of(written.bytes) },
    domain: domainToJSON(domain),
    tolerance,
    claim: claimText(tolerance) + actClaim(written.act),
    quantized: {
      to: spec.to,
      perChannel: spec.perChannel,
      keepFloat: spec.keepFloat.map((k) => k + 1),
      activations: target,
      ...(quantizesActivations(written.act) ? { storedActivations: schemeRecord(written.act) } : {}),
    },
    proof: { ...withoutWitness(answer.proof), method: 'quantized diff', maxBoxes: opts.maxBoxes },
    ...(answer.auto ? { auto: { lowerEnd: answer.auto.lowerEnd, lowerTried: answer.auto.lowerTried, steps: answer.auto.steps } } : {}),
    totalTimeMs: Date.now() - t0,
  };
  const files = [{ path: o.output, data: written.bytes }, { path: o.certificate, data: JSON.stringify(cert, null, 1) + '\n' }];
  const proved: Quantized = { network: written.g, certificate: cert, epsilon: answer.epsilon, proof: answer.proof, ...(answer.auto ? { auto: answer.auto } : {}), sizes: { float32Bytes: written.float32Bytes, bytes: written.bytes.length } };
  return { proved, files };
}

/**
 * Quantises a chain (read from its file: the certificate names it by the sha256 of its bytes; `<default>` is the
 * embedded network) and proves the file as written within the tolerance of the original on the domain. Rejects
 * with an NnsError: `not-proved` (nothing written; the message names the layers that hold it back and a
 * `keepFloat` choice that passes, if one does), `bad-input`, or `aborted`.
 */
export async function quantize(model: string | Model, options: QuantizeOptions): Promise<Quantized> {
  const path = typeof model === 'string' ? model : 'kind' in model ? (model.kind === 'chain' ? model.model.path : model.path) : model.path;
  const view = typeof model === 'object' && !('kind' in model) && model.view === 'normalized' ? 'normalized' : 'raw';
  const certificate = options.certificate ?? `${options.output}.certificate.json`;
  if (!options.output.toLowerCase().endsWith('.onnx')) fail(`-o ${options.output}: quantize writes ONNX (a .onnx path)`);
  const write = options.write !== false;
  if (write) checkOutputs([{ path: options.output, what: '-o', kind: 'file' }, { path: certificate, what: '--certificate', kind: 'file' }], path === DEFAULT_PATH ? [] : [{ path, what: 'MODEL' }]);
  const domainOf = (m: LoadedModel): Box[] => {
    const d = options.domain ?? m.domain ?? fail(`${m.path}: the model states no input domain; give one (options.domain)`);
    return Array.isArray(d) ? d : [d];
  };
  const r = await quantizeRun(path, view, domainOf, { ...options, certificate });
  if ('notProved' in r) throw new NnsError(r.notProved.message, { code: 'not-proved' });
  if (write) writeFilesAtomic(r.files);
  return r.proved;
}
