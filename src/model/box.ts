/** Input domains: axis-aligned boxes, and unions of boxes (VNN-LIB disjunctions). */
import { fail, quote } from '../errors.ts';

/** An axis-aligned box of inputs: `lo[i] <= x[i] <= hi[i]` (Float64Array each). */
export interface Box {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

/** A box from its two corners (copied into Float64Arrays). */
export function makeBox(lo: ArrayLike<number>, hi: ArrayLike<number>): Box {
  return { lo: Float64Array.from(lo), hi: Float64Array.from(hi) };
}

/** Throws a one-line error unless `box` has `n` finite coordinates with lo <= hi. */
export function validateBox(box: Box, n: number, where: string): void {
  if (box.lo.length !== n || box.hi.length !== n) {
    fail(`${where}: the domain has ${box.lo.length} coordinates but the network has ${n} inputs`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(box.lo[i]) || !Number.isFinite(box.hi[i])) {
      fail(`${where}: domain coordinate ${i} is not finite ([${box.lo[i]}, ${box.hi[i]}])`);
    }
    if (box.lo[i] > box.hi[i]) fail(`${where}: domain coordinate ${i} is empty (lo ${box.lo[i]} > hi ${box.hi[i]})`);
  }
}

/** A decimal number as written in files and options (no hex, binary, octal or words). */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Parses `lo1,lo2,..:hi1,hi2,..` (or `lo:hi` applied to every input when `n` is given and one value each). */
export function parseBoxSpec(spec: string, n: number, where = '--domain'): Box {
  const parts = spec.split(':');
  if (parts.length !== 2) fail(`${where}: expected lo1,lo2,...:hi1,hi2,... but got ${quote(spec)}`);
  const num = (s: string): number => {
    const t = s.trim();
    if (/^[-+]?(inf|infinity|nan)$/i.test(t)) fail(`${where}: ${quote(t)} is not a finite number: a box needs finite bounds`);
    if (!DECIMAL.test(t)) fail(`${where}: ${quote(t)} is not a number`);
    const v = Number(t);
    if (!Number.isFinite(v)) fail(`${where}: ${quote(t)} is not a finite number: a box needs finite bounds`);
    return v;
  };
  let lo = parts[0].split(',').map(num);
  let hi = parts[1].split(',').map(num);
  if (lo.length === 1 && n > 1) lo = new Array(n).fill(lo[0]);
  if (hi.length === 1 && n > 1) hi = new Array(n).fill(hi[0]);
  const box = makeBox(lo, hi);
  validateBox(box, n, where);
  return box;
}

/**
 * A box stored as JSON `{ "lo": [..], "hi": [..] }` (a network's or a certificate's domain), checked before use:
 * lists of finite numbers (a null or a string is named, never read as 0), of `n` values when `n` is given, lo <= hi.
 * `where` names the field in messages, e.g. `net.json: "domain"`.
 */
export function boxFromJSON(value: unknown, n: number | undefined, where: string): Box {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${where} must be an object {"lo": [..], "hi": [..]}, not ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`);
  const o = value as { lo?: unknown; hi?: unknown };
  const side = (key: 'lo' | 'hi'): number[] => {
    const a = o[key];
    if (!Array.isArray(a)) fail(`${where}.${key} must be a list of numbers`);
    if (n !== undefined && a.length !== n) fail(`${where}.${key} has ${a.length} values but the network has ${n} inputs`);
    if (a.length === 0) fail(`${where}.${key} is empty`);
    a.forEach((v, i) => {
      if (typeof v !== 'number') fail(`${where}.${key}[${i}] is ${v === null ? 'null' : typeof v}, expected a number`);
      if (!Number.isFinite(v)) fail(`${where}.${key}[${i}] is ${v}: a box needs finite bounds`);
    });
    return a as number[];
  };
  const lo = side('lo');
  const hi = side('hi');
  if (lo.length !== hi.length) fail(`${where}: "lo" has ${lo.length} values, "hi" ${hi.length}`);
  const box = makeBox(lo, hi);
  validateBox(box, lo.length, where);
  return box;
}

export function boxWidth(box: Box, i: number): number {
  return box.hi[i] - box.lo[i];
}

export function boxCenter(box: Box): Float64Array {
  const c = new Float64Array(box.lo.length);
  for (let i = 0; i < c.length; i++) c[i] = 0.5 * (box.lo[i] + box.hi[i]);
  return c;
}

/** The smallest box containing all the given boxes (a domain that is a union of boxes). */
export function boxHull(boxes: Box[]): Box {
  const n = boxes[0].lo.length;
  const lo = new Array(n).fill(Infinity);
  const hi = new Array(n).fill(-Infinity);
  for (const b of boxes) for (let i = 0; i < n; i++) {
    lo[i] = Math.min(lo[i], b.lo[i]);
    hi[i] = Math.max(hi[i], b.hi[i]);
  }
  return makeBox(lo, hi);
}

/** Whether `inner` lies inside `outer` (closed boxes). */
export function containsBox(outer: Box, inner: Box): boolean {
  for (let i = 0; i < outer.lo.length; i++) if (inner.lo[i] < outer.lo[i] || inner.hi[i] > outer.hi[i]) return false;
  return true;
}

/** Whether a point lies in a box (within `tol`). */
export function containsPoint(box: Box, x: ArrayLike<number>, tol = 0): boolean {
  for (let i = 0; i < box.lo.length; i++) if (x[i] < box.lo[i] - tol || x[i] > box.hi[i] + tol) return false;
  return true;
}

/** Splits a box at coordinate `i`'s midpoint (or at `at`). */
export function splitBox(box: Box, i: number, at?: number): [Box, Box] {
  const m = at ?? 0.5 * (box.lo[i] + box.hi[i]);
  const aHi = Float64Array.from(box.hi);
  aHi[i] = m;
  const bLo = Float64Array.from(box.lo);
  bLo[i] = m;
  return [
    { lo: Float64Array.from(box.lo), hi: aHi },
    { lo: bLo, hi: Float64Array.from(box.hi) },
  ];
}

/** `count` points drawn uniformly from the box (batch x n, row-major), from a seeded generator. */
export function samplePoints(box: Box, count: number, rng: () => number): Float64Array {
  const n = box.lo.length;
  const out = new Float64Array(count * n);
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < n; i++) out[s * n + i] = box.lo[i] + (box.hi[i] - box.lo[i]) * rng();
  }
  return out;
}

/** A box as plain JSON arrays (boxFromJSON reads it back, checked). */
export function boxToJSON(box: Box): { lo: number[]; hi: number[] } {
  return { lo: Array.from(box.lo), hi: Array.from(box.hi) };
}
