/**
 * quantize on a graph network (a CNN's ONNX): its conv and dense weights stored in float16 or int8 QDQ
 * (graph-store.ts, write-quant.ts), the claim proved about the graph read back from the bytes to be written,
 * evaluated in float32 (graph-prove.ts), before anything is written. quantizeRun (quantize.ts) calls it for a graph.
 */
import { fail, fmt } from '../errors.ts';
import { readInputFile } from '../formats/read-text.ts';
import { parseAnyOnnx } from '../formats/load.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import { parseOnnxGraph } from '../formats/onnx-graph/read.ts';
import { encodeGraphOnnx } from '../formats/onnx-graph/write.ts';
import { encodeQuantGraphOnnx } from '../formats/onnx-graph/write-quant.ts';
import type { Box } from '../model/box.ts';
import type { Graph } from '../model/graph/types.ts';
import { size } from '../model/graph/shape.ts';
import { graphDifference } from '../model/graph/compare.ts';
import { sha256Of } from '../simplify/graph/certificate.ts';
import { pathForCertificate } from '../simplify/certificate.ts';
import { claimText, domainToJSON, QUANT_CERTIFICATE_FORMAT, type QuantAsk, type QuantCertificate, type QuantTolerance } from '../simplify/quantize/certificate.ts';
import type { AutoEpsilon, QuantProof } from '../simplify/quantize/prove.ts';
import type { QuantSpec } from '../simplify/quantize/values.ts';
import { storeGraph, weightedNodes } from '../simplify/quantize/graph-store.ts';
import { blameGraphNodes } from '../simplify/quantize/graph-blame.ts';
import type { Blame } from '../simplify/quantize/blame.ts';
import { autoGraphEpsilon, proveGraphQuantized, proveGraphQuantizedClass, type GraphProveOptions } from '../simplify/quantize/graph-prove.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';
import { VERSION } from '../version.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';

/** The certificate of a graph quantisation: the chain's, marked as about graphs (check reads both files as graphs). */
export type GraphQuantCertificate = QuantCertificate & { network: 'graph' };

/** quantizeRun's options as a graph run takes them (quantize.ts's QuantizeOptions, the certificate path resolved). */
export interface GraphQuantizeRun extends RunOptions {
  to: QuantSpec['to'];
  perChannel?: boolean;
  /** conv / dense nodes (from 0, in the graph's order) kept in float32 */
  keepFloat?: readonly number[];
  tolerance: QuantAsk;
  output: string;
  certificate: string;
  timeoutMs?: number;
  /** the work limit of each ReLU-splitting search */
  maxBoxes?: number;
  /** activations stay float32 on graphs (quantised activations are the chains') */
  activations?: string;
}

/** What a graph run gives back: quantize.ts's Quantized with the graph as the file holds it. */
export interface GraphQuantized {
  network: Graph;
  certificate: GraphQuantCertificate;
  epsilon: number;
  proof: QuantProof;
  auto?: AutoEpsilon;
  sizes: { float32Bytes: number; bytes: number };
}

/** A graph file's network, bytes and hash, or undefined when the file is not an ONNX graph (a chain, NNet, JSON). */
export function readGraphModel(path: string): { graph: Graph; bytes: Uint8Array; sha256: string } | undefined {
  if (!path.toLowerCase().endsWith('.onnx')) return undefined;
  const buf = readInputFile(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const any = parseAnyOnnx(bytes, path);
  return any.kind === 'graph' ? { graph: any.graph, bytes, sha256: sha256Of(bytes) } : undefined;
}

/** What a domain function (--domain / --vnnlib parsing) needs of a model: the graph's input and output sizes. */
function domainView(g: Graph, path: string): LoadedModel {
  const [n, m] = [size(g.input.shape), size(g.output.shape)];
  const layer = { inSize: n, outSize: m, weights: new Float64Array(0), bias: new Float64Array(0), relu: new Uint8Array(0) };
  return { network: { inputSize: n, layers: [layer] }, format: 'onnx', path } as LoadedModel;
}

function proveAsked(f: Graph, g: Graph, domain: Box[], ask: QuantAsk, o: GraphProveOptions): { proof: QuantProof; epsilon: number; auto?: AutoEpsilon } {
  if (ask.kind === 'class') return { proof: proveGraphQuantizedClass(f, g, domain, ask.order, ask.margin, o), epsilon: 0 };
  if (ask.kind === 'linf') return { proof: proveGraphQuantized(f, g, domain, ask.epsilon, o), epsilon: ask.epsilon };
  const auto = autoGraphEpsilon(f, g, domain, o);
  if ('failed' in auto) return { proof: auto.failed, epsilon: 0 };
  return { proof: auto.proof, epsilon: auto.epsilon, auto };
}

/** The bytes to write and the graph read back from them, checked to be g node for node, bit for bit. */
function writtenGraph(f: Graph, spec: QuantSpec, out: string): { bytes: Uint8Array; g: Graph } {
  const { g, stored } = storeGraph(f, spec);
  const bytes = encodeQuantGraphOnnx(g, stored);
  const back = parseOnnxGraph(bytes, out);
  const d = graphDifference(g, back);
  if (d) throw new Error(`internal: the quantised file does not read back as the stored numbers: ${d}`);
  return { bytes, g: back };
}

const noWitness = (p: QuantProof): Omit<QuantProof, 'witness'> => {
  const { witness: _w, ...rest } = p;
  return rest;
};

type Run = { proved: GraphQuantized; files: Array<{ path: string; data: Uint8Array | string }> } | { notProved: { proof: QuantProof; blame: Blame | null; message: string } };

/** What holds a claim back: each conv / dense node's bound when it alone stays float32, and a mixed choice. */
function notProved(f: Graph, spec: QuantSpec, domain: Box[], ask: QuantAsk, proof: QuantProof, po: GraphProveOptions): { proof: QuantProof; blame: Blame | null; message: string } {
  const head = `not proved (${proof.reason ?? proof.status}); nothing written (float32 rounding alone: ${fmt(proof.rounding)})`;
  if (ask.kind === 'auto') return { proof, blame: null, message: head };
  const blame = blameGraphNodes(f, spec, domain, ask, po);
  const names = weightedNodes(f).map((n) => n.name);
  const nodes = blame.perLayer.map((p) => `node ${p.layer + 1} (${names[p.layer]}) float32: ${ask.kind === 'class' ? p.status : Number.isFinite(p.provedBound) ? `<= ${fmt(p.provedBound)}` : 'nothing proved'}`).join(', ');
  const mixed = blame.mixed ? `--keep-float ${blame.mixed.map((k) => k + 1).join(',')} passes` : 'no mixed choice passes';
  return { proof, blame, message: `${head}; ${nodes}; ${mixed}` };
}

/** The graph run: proved (the files to write, as one set) or not (why). */
export async function quantizeGraphRun(
  path: string,
  model: { graph: Graph; sha256: string },
  domainOf: (m: LoadedModel) => Box[],
  o: GraphQuantizeRun,
): Promise<Run> {
  const f = model.graph;
  if (f.precision === 'float64') fail(`${path}: a float64 graph; quantize takes float32 graphs`);
  if (o.activations && o.activations !== 'float32') fail(`--activations ${o.activations}: quantised activations are for fully-connected chains; ${path} is a graph (its activations stay float32)`);
  const domain = domainOf(domainView(f, path));
  const spec: QuantSpec = { to: o.to, perChannel: o.perChannel === true, keepFloat: [...new Set(o.keepFloat ?? [])].sort((a, b) => a - b) };
  await loadMilpSolver();
  const po: GraphProveOptions = { timeoutMs: o.timeoutMs ?? 60_000, maxNodes: o.maxBoxes ?? 2000, seed: 1 };
  const t0 = Date.now();
  reporter(o)({ stage: `quantize: ${spec.to}`, done: 0, total: 0 });
  const written = writtenGraph(f, spec, o.output);
  const answer = proveAsked(f, written.g, domain, o.tolerance, po);
  await checkpoint(o.signal);
  if (answer.proof.status !== 'proved') return { notProved: notProved(f, spec, domain, o.tolerance, answer.proof, po) };
  const tolerance: QuantTolerance = o.tolerance.kind === 'auto' ? { kind: 'linf', epsilon: answer.epsilon } : o.tolerance;
  const cert: GraphQuantCertificate = {
    format: QUANT_CERTIFICATE_FORMAT,
    version: 1,
    network: 'graph',
    tool: `nnshrink ${VERSION}`,
    createdAt: new Date().toISOString(),
    input: { path: pathForCertificate(o.certificate, path), sha256: model.sha256 },
    output: { path: pathForCertificate(o.certificate, o.output), sha256: sha256Of(written.bytes) },
    domain: domainToJSON(domain),
    tolerance,
    claim: claimText(tolerance),
    quantized: { to: spec.to, perChannel: spec.perChannel, keepFloat: spec.keepFloat.map((k) => k + 1), activations: 'float32' },
    proof: { ...noWitness(answer.proof), method: 'graph quantized diff', maxBoxes: po.maxNodes },
    ...(answer.auto ? { auto: { lowerEnd: answer.auto.lowerEnd, lowerTried: answer.auto.lowerTried, steps: answer.auto.steps } } : {}),
    totalTimeMs: Date.now() - t0,
  };
  const files = [{ path: o.output, data: written.bytes }, { path: o.certificate, data: JSON.stringify(cert, null, 1) + '\n' }];
  const sizes = { float32Bytes: encodeGraphOnnx(f, { precision: 'float32' }).length, bytes: written.bytes.length };
  const proved: GraphQuantized = { network: written.g, certificate: cert, epsilon: answer.epsilon, proof: answer.proof, ...(answer.auto ? { auto: answer.auto } : {}), sizes };
  return { proved, files };
}
