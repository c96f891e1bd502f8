/**
 * Jobs and results as text for Redis: JSON in which typed arrays travel as their bytes (base64), so a network arrives
 * bit for bit (-0, every double) as structured cloning gives a thread; numbers JSON cannot hold (NaN, ±Infinity, -0)
 * and undefined are tagged. A large array goes as a blob named by its SHA-256, stored once and shared by every job
 * that holds it (the network of 256 slice jobs is sent once). Decoding checks every tag, size and hash: the text is
 * data from the network, never code.
 */
import { createHash } from 'node:crypto';
import { fail } from '../errors.ts';

const ARRAYS = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  i16: Int16Array,
  u16: Uint16Array,
  i8: Int8Array,
  u8: Uint8Array,
} as const;
type Tag = keyof typeof ARRAYS;
type Typed = InstanceType<(typeof ARRAYS)[Tag]>;

const TAG_OF = new Map<unknown, Tag>(Object.entries(ARRAYS).map(([t, C]) => [C, t as Tag]));
const NUMBERS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** arrays of at least this many bytes go as blobs */
export const BLOB_BYTES = 8192;
/** the largest job or result text, and the largest blob, a decoder takes */
export const MAX_TEXT = 256 * 2 ** 20;
export const MAX_BLOB = 512 * 2 ** 20;

export const blobHash = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** one hash per array object (the same network in many jobs is hashed once) */
const hashed = new WeakMap<object, string>();

export interface Encoded {
  text: string;
  /** the blobs the text names, by hash */
  blobs: Map<string, Buffer>;
}

/** `value` as wire text; with useBlobs, large arrays as blobs (a result goes whole: it is read once). */
export function encode(value: unknown, useBlobs: boolean): Encoded {
  const blobs = new Map<string, Buffer>();
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key) {
    const v = this[key];
    if (v === undefined) return { $u: 1 };
    if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : { $n: String(v === 0 ? '-0' : v) };
    if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') throw new Error(`cannot send a ${typeof v} (${key})`);
    if (v instanceof Map || v instanceof Set || v instanceof Date) throw new Error(`cannot send a ${v.constructor.name} (${key})`);
    if (!ArrayBuffer.isView(v)) return v;
    const tag = TAG_OF.get(v.constructor);
    if (!tag) throw new Error(`cannot send a ${v.constructor.name} (${key})`);
    const bytes = bytesOf(v);
    if (!useBlobs || bytes.length < BLOB_BYTES) return { $a: tag, b64: bytes.toString('base64') };
    let h = hashed.get(v);
    if (!h) hashed.set(v, (h = blobHash(bytes)));
    blobs.set(h, bytes);
    return { $a: tag, blob: h };
  });
  return { text, blobs };
}

/** The blob hashes a job's text names (what a worker fetches before decoding). */
export function blobNames(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(/"blob":"([0-9a-f]{64})"/g), (m) => m[1]))];
}

/** Wire text back into its value; blobs as fetched (each checked against its hash here). */
export function decode(text: string, blobs: Map<string, Buffer> = new Map(), where = 'job'): unknown {
  if (text.length > MAX_TEXT) fail(`${where}: ${text.length} characters, more than the ${MAX_TEXT} a job may have`);
  let value: unknown;
  try {
    value = JSON.parse(text, (_k, v) => (v && typeof v === 'object' ? (Array.isArray(v) ? unhole(v) : revive(v as Record<string, unknown>, blobs, where)) : v));
  } catch (e) {
    if (e instanceof SyntaxError) fail(`${where}: not valid JSON (${e.message.slice(0, 80)})`);
    throw e;
  }
  return value === UNDEFINED ? undefined : value;
}

/** stands for undefined until its container is revived: a reviver that returns undefined deletes the entry */
const UNDEFINED = Symbol('undefined');

/** A list's undefined entries back in place (the reviver sees a list after its entries). */
function unhole(a: unknown[]): unknown[] {
  for (let i = 0; i < a.length; i++) if (a[i] === UNDEFINED) a[i] = undefined;
  return a;
}

function revive(o: Record<string, unknown>, blobs: Map<string, Buffer>, where: string): unknown {
  if ('$u' in o) return UNDEFINED;
  for (const k of Object.keys(o)) if (o[k] === UNDEFINED) o[k] = undefined;
  if ('$n' in o) {
    const n = NUMBERS[String(o.$n)];
    if (n === undefined) fail(`${where}: bad number tag ${JSON.stringify(o.$n).slice(0, 20)}`);
    return n;
  }
  if (!('$a' in o)) return o;
  const tag = String(o.$a) as Tag;
  const C = Object.hasOwn(ARRAYS, tag) ? ARRAYS[tag] : undefined;
  if (!C) fail(`${where}: bad array tag ${JSON.stringify(o.$a).slice(0, 20)}`);
  let bytes: Buffer;
  if (typeof o.b64 === 'string') bytes = Buffer.from(o.b64, 'base64');
  else if (typeof o.blob === 'string') {
    const b = blobs.get(o.blob);
    if (!b) fail(`${where}: names blob ${o.blob.slice(0, 12)}… that is not in Redis (expired?)`);
    bytes = b;
  } else fail(`${where}: an array with neither bytes nor a blob`);
  if (bytes.length % C.BYTES_PER_ELEMENT !== 0) fail(`${where}: ${bytes.length} bytes is not a whole number of ${tag} values`);
  // a copy: the array owns an aligned buffer of its own
  const out: Typed = new C(bytes.length / C.BYTES_PER_ELEMENT);
  bytesOf(out).set(bytes);
  return out;
}

/** A fetched blob, refused unless its bytes hash to its name. */
export function checkedBlob(name: string, bytes: Buffer | null): Buffer {
  if (!bytes) fail(`job: blob ${name.slice(0, 12)}… is not in Redis (expired?)`);
  if (bytes.length > MAX_BLOB) fail(`job: blob ${name.slice(0, 12)}… has ${bytes.length} bytes, more than ${MAX_BLOB}`);
  if (blobHash(bytes) !== name) fail(`job: blob ${name.slice(0, 12)}… does not match its hash`);
  return bytes;
}
