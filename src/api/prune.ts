/**
 * `prune(model, options)`: the neurons (chains) or channels (graphs) proved redundant on the domain removed, the
 * result proved about the file as it will be stored, written with its certificate as one set (or not at all).
 */
import { checkOutputs, writeFilesAtomic } from '../formats/atomic.ts';
import type { AnyModel } from '../formats/load.ts';
import type { LoadedModel } from '../formats/model-file.ts';
import type { Box } from '../model/box.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Network } from '../model/network.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import type { Certificate } from '../simplify/certificate.ts';
import type { GraphCertificate } from '../simplify/graph/certificate.ts';
import { fail } from '../errors.ts';
import type { JobRunner } from '../pool/pool.ts';
import { pruneChainRun, type ChainPruneAsk, type ChainPruneSummary } from './prune-chain.ts';
import { pruneGraphRun, type GraphPruneSummary } from './prune-graph.ts';
import { throwIfAborted, type RunOptions } from './run.ts';

/** A model as the library takes it: one {@link loadModel} or {@link defaultModel} gave, or {@link loadAnyModel}'s. */
export type Model = LoadedModel | AnyModel;

/** The options of {@link prune}. */
export interface PruneOptions extends RunOptions {
  /** where the pruned network goes (.onnx, .nnet or .json for a chain; .onnx for a graph) */
  output: string;
  /** where its certificate goes (default: `${output}.certificate.json`) */
  certificate?: string;
  /** the input domain (default: the model file's own; a graph states none) */
  domain?: Box | Box[];
  /** what "equivalent" means (default exact): `{ kind: 'linf', epsilon }` or `{ kind: 'class', order, margin }` */
  tolerance?: Tolerance;
  /** storage precision of an ONNX output (default: the source's; NNet and JSON are float64) */
  precision?: 'float32' | 'float64';
  /** the time limit of one query in milliseconds (default 30,000; the searches get multiples of it) */
  timeoutMs?: number;
  /** chains: a work limit (boxes) per search, so the result does not depend on the machine's pace */
  maxBoxes?: number;
  /** the seed of the sampling (default 1) */
  seed?: number;
  /** chains: worker threads for the census and the sampling (default 1; the verdicts do not depend on it), or a
   * JobRunner that runs those jobs elsewhere (the job queue; its owner closes it) */
  workers?: number | JobRunner;
  /** false: prove and return the result without writing the files (default true) */
  write?: boolean;
  /** told what the CLI prints as a warning before the work (a vacuous claim) */
  onWarning?: (message: string) => void;
}

/** What {@link prune} gives back: the network as written (a chain's, or a graph's), its certificate, a summary. */
export type Pruned =
  | { kind: 'chain'; network: Network; certificate: Certificate; summary: ChainPruneSummary }
  | { kind: 'graph'; graph: Graph; certificate: GraphCertificate; summary: GraphPruneSummary };

const asAny = (m: Model): AnyModel => ('kind' in m ? m : { kind: 'chain', model: m });

/** The domain given, or the model's own (a chain file's). */
function domainOf(m: AnyModel, d: Box | Box[] | undefined): Box[] {
  if (d !== undefined) return Array.isArray(d) ? d : [d];
  if (m.kind === 'chain' && m.model.domain) return [m.model.domain];
  fail(`${m.kind === 'chain' ? m.model.path : m.path}: the model states no input domain; give one (options.domain)`);
}

/**
 * Prunes a chain or a graph on the domain, proves the result about the file as stored (`check` re-proves the
 * certificate), and writes both as one set. Rejects with an NnsError: `not-proved` or `refuted` (the final check;
 * nothing written), `bad-input`, or `aborted`.
 */
export async function prune(model: Model, options: PruneOptions): Promise<Pruned> {
  const m = asAny(model);
  const write = options.write !== false;
  const base = resolved(m, options, write ? [] : undefined);
  if (m.kind === 'graph') {
    const r = await pruneGraphRun(m, base);
    throwIfAborted(options.signal);
    if (write) writeFilesAtomic(r.files);
    return { kind: 'graph', graph: r.graph, certificate: r.certificate, summary: r.summary };
  }
  const r = await pruneChainRun(m.model, chainAsk(base, options));
  throwIfAborted(options.signal);
  if (write) writeFilesAtomic(r.files);
  return { kind: 'chain', network: r.network, certificate: r.certificate, summary: r.summary };
}

/**
 * The options with their defaults and the domain resolved; with `outputs` (more files the run writes), every output
 * checked writable and none an input, before any work.
 */
function resolved(m: AnyModel, options: PruneOptions, outputs?: Array<{ path: string; what: string }>) {
  const certificate = options.certificate ?? `${options.output}.certificate.json`;
  const domain = domainOf(m, options.domain);
  const input = m.kind === 'chain' ? m.model.path : m.path;
  if (outputs) {
    const files = [{ path: options.output, what: '-o' }, { path: certificate, what: '--certificate' }, ...outputs].map((o) => ({ ...o, kind: 'file' as const }));
    checkOutputs(files, input === '<default>' ? [] : [{ path: input, what: 'MODEL' }]);
  }
  return { ...options, domain, certificate, tolerance: options.tolerance ?? { kind: 'exact' as const }, timeoutMs: options.timeoutMs ?? 30_000, seed: options.seed ?? 1 };
}

const chainAsk = (base: ReturnType<typeof resolved>, options: PruneOptions): ChainPruneAsk => ({
  ...base,
  workers: typeof options.workers === 'object' ? options.workers : Math.max(1, Math.floor(options.workers ?? 1)),
});

/** A chain prune's options resolved as {@link prune} resolves them, its outputs and `more` checked first. */
export function chainPruneAsk(model: LoadedModel, options: PruneOptions, more: Array<{ path: string; what: string }>): ChainPruneAsk {
  return chainAsk(resolved({ kind: 'chain', model }, options, more), options);
}
