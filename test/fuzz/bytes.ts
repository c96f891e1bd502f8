/** Byte-level malformations: truncations and replacements at deterministic, seeded offsets. */
import { mulberry32 } from '../../src/model/rng.ts';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A seeded generator with the picks the corpus needs. */
export interface Rng {
  next: () => number;
  int: (n: number) => number;
  pick: <T>(xs: readonly T[]) => T;
}

export function makeRng(seed: number): Rng {
  const next = mulberry32(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)] };
}

/** `count` distinct offsets from `allowed` (all of them when there are fewer), in increasing order. */
export function pickOffsets(allowed: number[], count: number, rng: Rng): number[] {
  if (allowed.length <= count) return allowed.slice();
  const chosen = new Set<number>();
  // the first and last allowed offsets are the edge cases worth always having
  chosen.add(allowed[0]);
  chosen.add(allowed[allowed.length - 1]);
  while (chosen.size < count) chosen.add(allowed[rng.int(allowed.length)]);
  return [...chosen].sort((a, b) => a - b);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** A copy (a Node Buffer's slice() is a view: an edit through it would change the source). */
export function copyOf(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

export function truncate(data: Uint8Array, at: number): Uint8Array {
  return copyOf(data.subarray(0, at));
}

/** `data` with the byte at `at` replaced by `byte`. */
export function replaceByte(data: Uint8Array, at: number, byte: number): Uint8Array {
  const out = copyOf(data);
  out[at] = byte;
  return out;
}

/** Offsets of every occurrence of `needle` in `hay`. */
export function findAll(hay: Uint8Array, needle: Uint8Array): number[] {
  const out: number[] = [];
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    out.push(i);
  }
  return out;
}

/** Offsets of ASCII digits in `text` between `from` and `to`. */
export function digitOffsets(text: string, from = 0, to = text.length): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) if (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) out.push(i);
  return out;
}

/** Bytes that can be no part of a number, a name or a JSON / S-expression token where a digit stood. */
export const JUNK = [0x71 /* q */, 0x00, 0xfe, 0x40 /* @ */, 0x23 /* # */];
