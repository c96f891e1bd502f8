/**
 * The backward step shared by elementwise nonlinear operators: per element a lower line kl x + cl and an upper line
 * ku x + cu that hold over the input's bounds; a row's coefficient a >= 0 takes the lower line, a < 0 the upper.
 */
import type { BackResult, BackViewBase } from '../types.ts';

export interface Lines {
  kl: Float64Array;
  cl: Float64Array;
  ku: Float64Array;
  cu: Float64Array;
}

export function newLines(n: number): Lines {
  return { kl: new Float64Array(n), cl: new Float64Array(n), ku: new Float64Array(n), cu: new Float64Array(n) };
}

/** Fills element i of the lines with one line for both sides (the function is linear on the input's interval). */
export function setExact(L: Lines, i: number, k: number, c: number): void {
  L.kl[i] = L.ku[i] = k;
  L.cl[i] = L.cu[i] = c;
}

export function linesBackward(v: BackViewBase, A: Float64Array, S: number, L: Lines): BackResult {
  const n = L.kl.length;
  const xm = v.ins[0].mag;
  const B = new Float64Array(A.length);
  const bias = new Float64Array(S);
  const mag = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let c = 0;
    let m = 0;
    for (let i = 0, o = s * n; i < n; i++) {
      const a = A[o + i];
      if (a === 0) continue;
      const k = a >= 0 ? L.kl[i] : L.ku[i];
      const d = a >= 0 ? L.cl[i] : L.cu[i];
      B[o + i] = a * k;
      if (d !== 0) c += a * d;
      m += Math.abs(a) * (Math.abs(k) * xm[i] + Math.abs(d));
    }
    bias[s] = c;
    mag[s] = m;
  }
  const relaxed = S === 1 ? chosen(A, L) : undefined;
  return { ins: [B], bias, mag, relaxed };
}

/** For one row: the value of the lines it chose, at a given input. */
function chosen(A: Float64Array, L: Lines): (ins: readonly (Float64Array | undefined)[]) => Float64Array {
  return ([x]) => {
    const y = new Float64Array(L.kl.length);
    for (let i = 0; i < y.length; i++) y[i] = A[i] >= 0 ? L.kl[i] * x![i] + L.cl[i] : L.ku[i] * x![i] + L.cu[i];
    return y;
  };
}

/**
 * The fallback for an operator without linear relaxation: the output replaced by its own interval (a constant
 * per element, the end that bounds a row from below). Sound for every operator; the inputs get no coefficients.
 */
export function constantBackward(v: BackViewBase, A: Float64Array, S: number): BackResult {
  const { lo, hi } = v.out;
  const n = lo.length;
  const bias = new Float64Array(S);
  const mag = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let c = 0;
    let m = 0;
    for (let i = 0, o = s * n; i < n; i++) {
      const a = A[o + i];
      if (a === 0) continue;
      const t = a * (a >= 0 ? lo[i] : hi[i]);
      c += t;
      m += Math.abs(t);
    }
    bias[s] = c;
    mag[s] = m;
  }
  const relaxed = S === 1 ? () => Float64Array.from(lo, (l, i) => (A[i] >= 0 ? l : hi[i])) : undefined;
  return { ins: v.ins.map(() => null), bias, mag, relaxed };
}
