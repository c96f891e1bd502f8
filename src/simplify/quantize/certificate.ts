/**
 * The certificate of a quantisation: the two files (by path and the sha256 of their bytes; the embedded default
 * network by the hash of its numbers), the domain, the tolerance, what was quantised and the proof's figures.
 * `nnshrink check` re-proves the claim from the two files and the domain alone (check.ts): the figures are a record.
 */
import { boxToJSON, type Box } from '../../model/box.ts';
import { CLASS_TOLERANCE, certificateDomain, certificateValidator, DOMAIN_SCHEMA, FILE_SCHEMA, linfTolerance } from '../certificate-parts.ts';
import type { ActTarget, schemeRecord } from './activations.ts';
import type { QuantProof } from './prove.ts';
import type { QuantTarget } from './values.ts';

export const QUANT_CERTIFICATE_FORMAT = 'nnshrink-quant-certificate';

/** linf: |ORT(g)(x) - f(x)| <= epsilon on every output; class: g's winner is f's wherever f leads by the margin */
export type QuantTolerance = { kind: 'linf'; epsilon: number } | { kind: 'class'; order: 'argmax' | 'argmin'; margin: number };
/** What a quantisation is asked to prove: |g - f| <= epsilon, the smallest epsilon bisection proves (`auto`), or the same class. */
export type QuantAsk = QuantTolerance | { kind: 'auto' };

export interface QuantCertificate {
  format: typeof QUANT_CERTIFICATE_FORMAT;
  version: 1;
  tool: string;
  createdAt: string;
  /** the original; sha256 of its file's bytes ('<default>': of its numbers, model/hash.ts); view: how an NNet is read */
  input: { path: string; sha256: string; view?: 'raw' | 'normalized' };
  output: { path: string; sha256: string };
  domain: Array<{ lo: number[]; hi: number[] }>;
  tolerance: QuantTolerance;
  claim: string;
  /** layers are numbered from 1; activations: how the hidden outputs are stored (storedActivations: where, a record) */
  quantized: { to: QuantTarget; perChannel: boolean; keepFloat: number[]; activations: ActTarget; storedActivations?: ReturnType<typeof schemeRecord> };
  proof: Omit<QuantProof, 'witness'> & { method: string; maxBoxes?: number };
  /** --epsilon auto: the bisection's lower end (not proved) and its steps */
  auto?: { lowerEnd: number; lowerTried: boolean; steps: Array<{ epsilon: number; status: string }> };
  totalTimeMs: number;
}

export function claimText(t: QuantTolerance): string {
  return t.kind === 'linf'
    ? `max |g(x) - f(x)| <= ${t.epsilon} for every output and every x in the domain, g evaluated in float32 (any summation order) on the stored numbers`
    : `g (evaluated in float32) has f's ${t.order} class wherever f's winner leads by at least ${t.margin}`;
}

// the original also says how an NNet file is read
const side = { ...FILE_SCHEMA, properties: { ...FILE_SCHEMA.properties, view: { enum: ['raw', 'normalized'] } } };
const SCHEMA = {
  type: 'object',
  required: ['format', 'version', 'input', 'output', 'domain', 'tolerance', 'quantized'],
  properties: {
    format: { const: QUANT_CERTIFICATE_FORMAT },
    version: { type: 'integer' },
    input: side,
    output: side,
    domain: DOMAIN_SCHEMA,
    tolerance: { oneOf: [linfTolerance({ exclusiveMinimum: 0 }), CLASS_TOLERANCE] },
    quantized: {
      type: 'object',
      required: ['to', 'perChannel', 'keepFloat'],
      properties: { to: { enum: ['float16', 'int8'] }, perChannel: { type: 'boolean' }, keepFloat: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 10_000 } },
    },
    proof: { type: 'object', properties: { maxBoxes: { type: 'integer', minimum: 1 } } },
  },
} as const;

/** A parsed quantisation certificate checked against the schema: a one-line error naming the field, before any work. */
export const validateQuantCertificate: (obj: unknown, path: string) => QuantCertificate = certificateValidator<QuantCertificate>(SCHEMA);

/** The certificate's domain for a network of n inputs (one finite interval per input, lo <= hi). */
export const quantDomain = (c: QuantCertificate, n: number, path: string): Box[] => certificateDomain(c.domain, n, path);

export const domainToJSON = (d: readonly Box[]): QuantCertificate['domain'] => d.map(boxToJSON);
