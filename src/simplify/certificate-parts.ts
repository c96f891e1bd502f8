/**
 * What the graph prune's and the quantisation's certificates share, written once: the JSON Schema of a file named
 * by path and sha256, of the domain and of the tolerances; the validator that refuses a malformed certificate in one
 * line naming the field, before any work; and the domain read back for a network of n inputs.
 */
import { Ajv } from 'ajv';
import { fail, quote } from '../errors.ts';
import { boxFromJSON, type Box } from '../model/box.ts';
import { MAX_DOMAIN_BOXES, MAX_DOMAIN_VALUES, MAX_INPUTS } from './certificate-schema.ts';

/** A file the certificate names: its path (relative to the certificate) and the sha256 of its bytes. */
export const FILE_SCHEMA = {
  type: 'object',
  required: ['path', 'sha256'],
  properties: { path: { type: 'string', minLength: 1 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
} as const;

const numbers = { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: MAX_INPUTS } as const;

/** The domain: one box or more, each its lo and hi (their sizes and lo <= hi are checked by certificateDomain). */
export const DOMAIN_SCHEMA = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_DOMAIN_BOXES,
  items: { type: 'object', required: ['lo', 'hi'], additionalProperties: false, properties: { lo: numbers, hi: numbers } },
} as const;

/** The tolerances: exact, the same class (argmax or argmin, a margin), within epsilon (a quantisation's: above 0). */
export const EXACT_TOLERANCE = { type: 'object', required: ['kind'], additionalProperties: false, properties: { kind: { const: 'exact' } } } as const;
export const CLASS_TOLERANCE = {
  type: 'object',
  required: ['kind', 'order', 'margin'],
  additionalProperties: false,
  properties: { kind: { const: 'class' }, order: { enum: ['argmax', 'argmin'] }, margin: { type: 'number', minimum: 0 } },
} as const;
export const linfTolerance = (epsilon: { minimum: 0 } | { exclusiveMinimum: 0 }) =>
  ({ type: 'object', required: ['kind', 'epsilon'], additionalProperties: false, properties: { kind: { const: 'linf' }, epsilon: { type: 'number', ...epsilon } } }) as const;

/**
 * The validator of one certificate format (compiled when first used): the parsed JSON checked against `schema`,
 * then its version (1); a one-line error naming the certificate and the field.
 */
export function certificateValidator<T extends { version: number }>(schema: object): (obj: unknown, path: string) => T {
  let validator: ReturnType<Ajv['compile']> | undefined;
  return (obj, path) => {
    validator ??= new Ajv({ allErrors: false, strict: false }).compile(schema);
    if (!validator(obj)) {
      const e = validator.errors?.[0];
      const field = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
      fail(`${path}: malformed certificate: ${field} ${e?.message ?? 'does not fit the schema'}`);
    }
    const c = obj as T;
    if (c.version !== 1) fail(`${path}: unsupported certificate version ${quote(String(c.version))}`);
    return c;
  };
}

/** The certificate's domain for a network of n inputs: one finite interval per input, lo <= hi, within the memory bound. */
export function certificateDomain(domain: ReadonlyArray<{ lo: number[]; hi: number[] }>, n: number, path: string): Box[] {
  if (2 * n * domain.length > MAX_DOMAIN_VALUES) fail(`${path}: domain has ${domain.length} boxes of ${n} inputs, more than ${MAX_DOMAIN_VALUES} values in all`);
  return domain.map((b, k) => boxFromJSON(b, n, `${path}: domain[${k}]`));
}
