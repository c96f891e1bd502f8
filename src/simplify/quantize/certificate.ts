/**
 * The certificate of a quantisation: the two files (by path and the sha256 of their bytes; the embedded default
 * network by the hash of its numbers), the domain, the tolerance, what was quantised and the proof's figures.
 * `nnshrink check` re-proves the claim from the two files and the domain alone (check.ts): the figures are a record.
 */
import { Ajv } from 'ajv';
import { fail, quote } from '../../errors.ts';
import { boxFromJSON, boxToJSON, type Box } from '../../model/box.ts';
import { MAX_DOMAIN_BOXES, MAX_DOMAIN_VALUES, MAX_INPUTS } from '../certificate-schema.ts';
import type { ActTarget, schemeRecord } from './activations.ts';
import type { QuantProof } from './prove.ts';
import type { QuantTarget } from './values.ts';

export const QUANT_CERTIFICATE_FORMAT = 'nnshrink-quant-certificate';

/** linf: |ORT(g)(x) - f(x)| <= epsilon on every output; class: g's winner is f's wherever f leads by the margin */
export type QuantTolerance = { kind: 'linf'; epsilon: number } | { kind: 'class'; order: 'argmax' | 'argmin'; margin: number };

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

const numbers = { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: MAX_INPUTS };
const side = {
  type: 'object',
  required: ['path', 'sha256'],
  properties: { path: { type: 'string', minLength: 1 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, view: { enum: ['raw', 'normalized'] } },
};
const SCHEMA = {
  type: 'object',
  required: ['format', 'version', 'input', 'output', 'domain', 'tolerance', 'quantized'],
  properties: {
    format: { const: QUANT_CERTIFICATE_FORMAT },
    version: { type: 'integer' },
    input: side,
    output: side,
    domain: { type: 'array', minItems: 1, maxItems: MAX_DOMAIN_BOXES, items: { type: 'object', required: ['lo', 'hi'], additionalProperties: false, properties: { lo: numbers, hi: numbers } } },
    tolerance: {
      oneOf: [
        { type: 'object', required: ['kind', 'epsilon'], additionalProperties: false, properties: { kind: { const: 'linf' }, epsilon: { type: 'number', exclusiveMinimum: 0 } } },
        { type: 'object', required: ['kind', 'order', 'margin'], additionalProperties: false, properties: { kind: { const: 'class' }, order: { enum: ['argmax', 'argmin'] }, margin: { type: 'number', minimum: 0 } } },
      ],
    },
    quantized: {
      type: 'object',
      required: ['to', 'perChannel', 'keepFloat'],
      properties: { to: { enum: ['float16', 'int8'] }, perChannel: { type: 'boolean' }, keepFloat: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 10_000 } },
    },
    proof: { type: 'object', properties: { maxBoxes: { type: 'integer', minimum: 1 } } },
  },
} as const;

let validator: ReturnType<Ajv['compile']> | undefined;

/** A parsed quantisation certificate checked against the schema: a one-line error naming the field, before any work. */
export function validateQuantCertificate(obj: unknown, path: string): QuantCertificate {
  validator ??= new Ajv({ allErrors: false, strict: false }).compile(SCHEMA);
  if (!validator(obj)) {
    const e = validator.errors?.[0];
    const field = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
    fail(`${path}: malformed certificate: ${field} ${e?.message ?? 'does not fit the schema'}`);
  }
  const c = obj as QuantCertificate;
  if (c.version !== 1) fail(`${path}: unsupported certificate version ${quote(String(c.version))}`);
  return c;
}

/** The certificate's domain for a network of n inputs (one finite interval per input, lo <= hi). */
export function quantDomain(c: QuantCertificate, n: number, path: string): Box[] {
  if (2 * n * c.domain.length > MAX_DOMAIN_VALUES) fail(`${path}: domain has ${c.domain.length} boxes of ${n} inputs, more than ${MAX_DOMAIN_VALUES} values in all`);
  return c.domain.map((b, k) => boxFromJSON(b, n, `${path}: domain[${k}]`));
}

export const domainToJSON = (d: readonly Box[]): QuantCertificate['domain'] => d.map(boxToJSON);
