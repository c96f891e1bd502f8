/**
 * The certificate's JSON Schema (published as docs/certificate.schema.json, which a test keeps equal to this) and
 * its validation: `check` refuses a malformed certificate before any work, naming the field. The schema says what
 * each field may hold; what depends on the networks (domain sizes, lo <= hi, the exact slack) is checked in
 * certificate.ts once they are loaded.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { fail, quote } from '../errors.ts';

/** The most boxes a certificate's domain may list: as many as a VNN-LIB property may have cases (the proofs run on
 * at most 256 hulls of them, src/verify/cover.ts). */
export const MAX_DOMAIN_BOXES = 100_000;
/** The most numbers a certificate's domain may hold in all (boxes x inputs x 2), a bound on the memory it asks. */
export const MAX_DOMAIN_VALUES = 20_000_000;
/** The most inputs a domain box may have (MNIST has 784; a bound on the memory a malformed file can ask for). */
export const MAX_INPUTS = 1 << 20;

const hash = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const nonNegInt = { type: 'integer', minimum: 0 };
const intList = { type: 'array', items: nonNegInt };
const numberList = (max: number) => ({ type: 'array', items: { type: 'number' }, maxItems: max });
const sizes = {
  type: 'object',
  required: ['layers', 'neurons', 'reluNeurons', 'parameters', 'layerSizes'],
  properties: { layers: nonNegInt, neurons: nonNegInt, reluNeurons: nonNegInt, parameters: nonNegInt, layerSizes: intList },
};
const box = {
  type: 'object',
  required: ['lo', 'hi'],
  additionalProperties: false,
  properties: { lo: { ...numberList(MAX_INPUTS), minItems: 1 }, hi: { ...numberList(MAX_INPUTS), minItems: 1 } },
};
const tolerance = {
  oneOf: [
    { type: 'object', required: ['kind'], additionalProperties: false, properties: { kind: { const: 'exact' } } },
    {
      type: 'object',
      required: ['kind', 'epsilon'],
      additionalProperties: false,
      properties: { kind: { const: 'linf' }, epsilon: { type: 'number', minimum: 0 } },
    },
    {
      type: 'object',
      required: ['kind', 'order', 'margin'],
      additionalProperties: false,
      properties: { kind: { const: 'class' }, order: { enum: ['argmax', 'argmin'] }, margin: { type: 'number', minimum: 0 } },
    },
  ],
};
const STEP_KINDS = ['never-active', 'always-active', 'merge', 'tolerance-remove', 'tolerance-linearise', 'tolerance-merge', 'linear-basis'];
const step = {
  type: 'object',
  required: ['kind', 'layer', 'neuron'],
  properties: { kind: { enum: STEP_KINDS }, layer: nonNegInt, neuron: { type: 'integer' }, stage: { const: 1 }, into: { type: 'integer' }, alpha: { type: 'number' } },
};
const matrix = { type: 'array', items: { type: 'array', items: { type: 'number' } } };

export const CERTIFICATE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'nnshrink prune certificate, version 1',
  type: 'object',
  required: ['format', 'version', 'input', 'output', 'domain', 'tolerance', 'floatingPoint', 'steps', 'edits', 'groups'],
  properties: {
    format: { const: 'nnshrink-certificate' },
    version: { const: 1 },
    tool: { type: 'string' },
    createdAt: { type: 'string' },
    input: {
      type: 'object',
      required: ['path', 'sha256'],
      properties: { path: { type: 'string', minLength: 1 }, sha256: hash, view: { enum: ['raw', 'normalized'] }, sizes },
    },
    output: {
      type: 'object',
      required: ['path', 'sha256', 'precision'],
      properties: {
        path: { type: 'string', minLength: 1 },
        sha256: hash,
        precision: { enum: ['float32', 'float64'] },
        sizes,
        reluPairs: { type: 'array', items: intList },
      },
    },
    domain: { type: 'array', minItems: 1, maxItems: MAX_DOMAIN_BOXES, items: box },
    tolerance,
    floatingPoint: {
      type: 'object',
      required: ['exactTolerance'],
      properties: { exactTolerance: { type: 'number', exclusiveMinimum: 0 }, boundWidening: { type: 'string' }, milpWidening: { type: 'string' }, note: { type: 'string' } },
    },
    steps: { type: 'array', items: step },
    edits: {
      type: 'object',
      required: ['state', 'mergeInto', 'mergeFactor', 'affS', 'affC'],
      properties: { state: matrix, mergeInto: matrix, mergeFactor: matrix, affS: matrix, affC: matrix },
    },
    groups: { type: 'array', minItems: 1, items: { ...intList, minItems: 1 } },
    basisReduced: { type: 'boolean' },
    census: { type: 'object' },
    finalCheck: { type: 'object' },
    totalTimeMs: { type: 'number' },
    fallback: { type: 'string' },
  },
} as const;

let validator: ReturnType<Ajv['compile']> | undefined;

/** Throws a one-line error naming the first offending field unless `obj` fits the schema. */
export function validateCertificateShape(obj: unknown, path: string): void {
  validator ??= new Ajv({ allErrors: false, strict: false }).compile(CERTIFICATE_SCHEMA);
  if (validator(obj)) return;
  fail(`${path}: malformed certificate: ${describe(validator.errors ?? [], obj)}`);
}

/** The most telling error: for a tolerance (oneOf), the branch its kind names, else the first. */
function describe(errors: ErrorObject[], obj: unknown): string {
  const e = errors[0];
  if (!e) return 'does not fit the certificate schema';
  const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  // a tolerance fails as each branch of its oneOf: say what the three kinds are instead of the first branch's error
  if (errors.some((x) => x.instancePath === '/tolerance' && x.keyword === 'oneOf') || field.startsWith('tolerance.')) {
    const kind = (obj as { tolerance?: { kind?: unknown } })?.tolerance?.kind;
    return `tolerance: kind ${quote(JSON.stringify(kind) ?? 'undefined')} with these fields is not one of exact, linf (epsilon >= 0), class (order argmax|argmin, margin >= 0)`;
  }
  const detail = e.keyword === 'enum' || e.keyword === 'const' ? `must be ${JSON.stringify(e.params.allowedValues ?? e.params.allowedValue)}` : e.message;
  return `${field} ${detail}`;
}
