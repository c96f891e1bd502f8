/**
 * The certificate of a prune run: what went in, what came out, every step and the verdict that licensed it, the
 * floating-point slack, and the final end-to-end check. Plain JSON so that other tools can read it; `nnshrink check`
 * re-runs the final check from it.
 */
import { outputSize, type Network, type SizeMetrics } from '../model/network.ts';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { networkHash } from '../model/hash.ts';
import { boxFromJSON, boxToJSON, type Box } from '../model/box.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { MILP_ABS, MILP_REL } from '../verify/search/milp.ts';
import { fail, quote } from '../errors.ts';
import { MAX_DOMAIN_VALUES, validateCertificateShape } from './certificate-schema.ts';
import { exactSlack, type FinalCheckResult } from './final-check.ts';
import type { EditsJSON } from './edits.ts';
import type { Step } from './prune.ts';
import type { PhaseCensus } from '../verify/phase/phase.ts';

export const CERTIFICATE_FORMAT = 'nnshrink-certificate';

/** A prune certificate (docs/certificate.md): the two networks by path and hash, the domain, the claim, the steps and the final check. */
export interface Certificate {
  format: typeof CERTIFICATE_FORMAT;
  version: 1;
  tool: string;
  createdAt: string;
  input: { path: string; sha256: string; view?: string; sizes: SizeMetrics };
  output: {
    path: string;
    sha256: string;
    precision: 'float32' | 'float64';
    sizes: SizeMetrics;
    /** NNet output: per hidden layer, the linear neurons the file stores as ReLU pairs (sha256 and sizes are of the
     * network with them linear, the one the proofs are about) */
    reluPairs?: number[][];
  };
  domain: Array<{ lo: number[]; hi: number[] }>;
  tolerance: Tolerance;
  floatingPoint: {
    boundWidening: string;
    milpWidening: string;
    exactTolerance: number;
    note: string;
  };
  census: { never: number; always: number; both: number; unknown: number; boxes: number; timeMs: number };
  steps: Step[];
  /** what was done to each neuron of the original, and which original layers each written layer stands for */
  edits: EditsJSON;
  groups: number[][];
  /** linear neurons were reduced to a basis before folding (`nnshrink check` re-derives the reduction) */
  basisReduced?: boolean;
  finalCheck: FinalCheckResult;
  totalTimeMs: number;
  fallback?: string;
}

export interface CertificateInput {
  inputPath: string;
  inputView?: string;
  original: Network;
  outputPath: string;
  written: Network;
  precision: 'float32' | 'float64';
  /** NNet output with linear hidden neurons: which ones the file stores as ReLU pairs */
  reluPairs?: number[][];
  domain: Box[];
  tolerance: Tolerance;
  exactTolerance: number;
  boundWidening: string;
  census: PhaseCensus;
  steps: Step[];
  edits: EditsJSON;
  groups: number[][];
  basisReduced?: boolean;
  finalCheck: FinalCheckResult;
  before: SizeMetrics;
  after: SizeMetrics;
  totalTimeMs: number;
  version: string;
  /** the pruned network failed its final check and the original was kept instead (slices): why */
  fallback?: string;
}

/**
 * A model path as a certificate records it: relative to the certificate's own directory (so `check` finds the
 * files from any working directory, and a directory moved as a whole keeps working), or as given when absolute or
 * the embedded default.
 */
export function pathForCertificate(certPath: string, p: string): string {
  if (p === '<default>' || isAbsolute(p)) return p;
  return relative(dirname(resolve(certPath)), resolve(p)) || '.';
}

/** The file a certificate's path names: relative to the certificate's directory (else, for certificates written
 * before paths were kept that way, to the working directory). */
export function pathFromCertificate(certPath: string, p: string): string {
  if (p === '<default>' || isAbsolute(p)) return p;
  const there = join(dirname(certPath), p);
  return existsSync(there) || !existsSync(p) ? there : p;
}

export function buildCertificate(c: CertificateInput): Certificate {
  return {
    format: CERTIFICATE_FORMAT,
    version: 1,
    tool: `nnshrink ${c.version}`,
    createdAt: new Date().toISOString(),
    input: { path: c.inputPath, sha256: networkHash(c.original), view: c.inputView, sizes: c.before },
    output: { path: c.outputPath, sha256: networkHash(c.written), precision: c.precision, sizes: c.after, ...(c.reluPairs ? { reluPairs: c.reluPairs } : {}) },
    domain: c.domain.map(boxToJSON),
    tolerance: c.tolerance,
    floatingPoint: {
      boundWidening: c.boundWidening,
      milpWidening: `MILP optima are trusted as bounds only after widening by ${MILP_REL} x (magnitude of the objective's terms) + ${MILP_ABS}`,
      exactTolerance: c.exactTolerance,
      note:
        'every bound is widened outward; difference bounds add a summation-error term per layer; ' +
        '"exact" means equal up to exactTolerance (floating-point rounding of merged and folded weights, float32 storage)',
    },
    census: { ...c.census.counts, boxes: c.census.boxes, timeMs: c.census.timeMs },
    steps: c.steps,
    edits: c.edits,
    groups: c.groups,
    basisReduced: c.basisReduced ?? false,
    finalCheck: c.finalCheck,
    totalTimeMs: c.totalTimeMs,
    ...(c.fallback ? { fallback: c.fallback } : {}),
  };
}

/** Parses a certificate file's text and checks it against the schema (certificate-schema.ts): one-line errors
 * naming the field, before any work. */
export function parseCertificate(text: string, path: string): Certificate {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    fail(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return certificateFromJson(obj, path);
}

/** A prune certificate from its parsed JSON (`check` parses a file once and dispatches on its format), validated. */
export function certificateFromJson(obj: unknown, path: string): Certificate {
  const c = obj as Partial<Certificate> | null;
  if (!c || typeof c !== 'object' || c.format !== CERTIFICATE_FORMAT) fail(`${path}: not an nnshrink certificate (format field missing or wrong)`);
  if (c.version !== 1) fail(`${path}: unsupported certificate version ${quote(String(c.version))}`);
  validateCertificateShape(obj, path);
  return c as Certificate;
}

/**
 * What the schema cannot say, once the networks are loaded: the pruned network takes the same inputs and gives the
 * same outputs as the original, and every domain box has one finite interval per input, lo <= hi (boxFromJSON).
 * Cheap, before any sampling or proof. Returns the domain.
 */
export function checkedDomain(c: Certificate, f: Network, g: Network, path: string): Box[] {
  const n = f.inputSize;
  if (g.inputSize !== n) fail(`${path}: the pruned network takes ${g.inputSize} inputs, the original ${n}`);
  if (outputSize(g) !== outputSize(f)) fail(`${path}: the pruned network gives ${outputSize(g)} outputs, the original ${outputSize(f)}`);
  if (2 * n * c.domain.length > MAX_DOMAIN_VALUES) fail(`${path}: domain has ${c.domain.length} boxes of ${n} inputs, more than ${MAX_DOMAIN_VALUES} values in all`);
  return c.domain.map((b, k) => boxFromJSON(b, n, `${path}: domain[${k}]`));
}

/**
 * The exact slack `check` uses: the fixed one (final-check.ts exactSlack), recomputed from the original and the
 * domain; a certificate that records another value, or claims float32 storage for numbers float32 cannot hold, is
 * refused (a file cannot raise the slack).
 */
export function fixedExactSlack(c: Certificate, f: Network, written: Network, domain: Box[], path: string): number {
  if (c.output.precision === 'float32' && !holdsFloat32(written)) fail(`${path}: output.precision is float32 but the stored network has numbers float32 cannot hold`);
  const slack = exactSlack(f, domain, c.output.precision);
  if (c.floatingPoint.exactTolerance !== slack) fail(`${path}: floatingPoint.exactTolerance ${c.floatingPoint.exactTolerance} is not the fixed slack ${slack} of this original, domain and precision`);
  return slack;
}

function holdsFloat32(net: Network): boolean {
  return net.layers.every((L) => L.weights.every((w) => Math.fround(w) === w) && L.bias.every((b) => Math.fround(b) === b));
}
