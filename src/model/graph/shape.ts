/** Shape arithmetic shared by the operators' shape rules and kernels. */
import type { Shape } from './types.ts';

export const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape. */
export function strides(s: Shape): number[] {
  const st = new Array<number>(s.length);
  let k = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = k;
    k *= s[i];
  }
  return st;
}

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export const fmt = (s: Shape): string => `[${s.join(',')}]`;

/** The numpy broadcast of two shapes (right-aligned), or undefined when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/** `s` with leading 1s to rank r. */
export const padRank = (s: Shape, r: number): number[] => [...new Array<number>(Math.max(0, r - s.length)).fill(1), ...s];

/**
 * For every element of `out` (row-major), the index of the element of a tensor of shape `src` that broadcasting
 * maps to it. `src` must broadcast to `out`.
 */
export function broadcastIndex(src: Shape, out: Shape): Int32Array {
  const s = padRank(src, out.length);
  const st = strides(s);
  const n = size(out);
  const idx = new Int32Array(n);
  const pos = new Array<number>(out.length).fill(0);
  for (let e = 0; e < n; e++) {
    let k = 0;
    for (let a = 0; a < out.length; a++) if (s[a] !== 1) k += pos[a] * st[a];
    idx[e] = k;
    for (let a = out.length - 1; a >= 0; a--) {
      if (++pos[a] < out[a]) break;
      pos[a] = 0;
    }
  }
  return idx;
}

/** `t` expanded to `out` (a broadcast), as a fresh array. */
export function expand(data: Float64Array, src: Shape, out: Shape): Float64Array {
  const idx = broadcastIndex(src, out);
  const r = new Float64Array(idx.length);
  for (let e = 0; e < idx.length; e++) r[e] = data[idx[e]];
  return r;
}
