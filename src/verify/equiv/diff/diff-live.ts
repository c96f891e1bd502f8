/**
 * The live parts of a box for the backward difference bounds (diff-backward.ts): on a box, f's dead neurons
 * (activation exactly 0) and the neurons whose activation difference is exactly 0 (both networks' neurons dead)
 * add exactly nothing to any back-substitution, so each layer's matrices are kept restricted to the rest, rows and
 * columns, built once per box and layer on first use. Dropping a term that is exactly 0 is exact: the bounds are
 * those of the full matrices (but for rounding slack that the zero terms would have added).
 */
import type { NetworkBounds } from '../../../bounds/types.ts';
import type { Layer, Network } from '../../../model/network.ts';
import type { DeltaRelax } from './diff-activation.ts';

/** The indices 0..n-1 (the inputs: all live). */
export function allOf(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** f's neurons of layer l whose activation is not exactly 0 on the box (l = -1: the inputs). */
export function liveF(f: Network, fb: NetworkBounds, l: number): Int32Array {
  if (l < 0) return allOf(f.inputSize);
  const L = f.layers[l];
  const hi = fb[l].hi;
  const idx: number[] = [];
  for (let j = 0; j < L.outSize; j++) if (!(L.relu[j] && hi[j] <= 0)) idx.push(j);
  return Int32Array.from(idx);
}

/** The neurons of a layer whose activation difference is not exactly 0 (its relaxation is not 0 <= delta <= 0). */
export function liveDelta(R: DeltaRelax): Int32Array {
  const idx: number[] = [];
  for (let j = 0; j < R.lamL.length; j++) if (R.lamL[j] !== 0 || R.lamU[j] !== 0 || R.muL[j] !== 0 || R.muU[j] !== 0) idx.push(j);
  return Int32Array.from(idx);
}

/** W (row-major, `inSize` columns) restricted to the listed rows and columns, row-major. */
export function gather(W: Float64Array, inSize: number, rows: Int32Array, cols: Int32Array): Float64Array {
  const nc = cols.length;
  const out = new Float64Array(rows.length * nc);
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r] * inSize;
    const dst = r * nc;
    for (let t = 0; t < nc; t++) out[dst + t] = W[src + cols[t]];
  }
  return out;
}

/** pos[j] = the place of neuron j in idx, -1 if absent (n neurons). */
export function placesOf(idx: Int32Array, n: number): Int32Array {
  const pos = new Int32Array(n).fill(-1);
  idx.forEach((j, p) => (pos[j] = p));
  return pos;
}

/**
 * Rows r and r + 1 of a product at once: B[b0 + t] += sum_p A[a0 + p] W[p nin + t], and the same for (b1, a1),
 * over all m rows of W (dense: on the live parts most coefficients are nonzero). Each load of W serves both rows,
 * four rows of W per pass: half the loads of two single-row passes, the back-substitution's bottleneck.
 */
export function addRowsPair(B: Float64Array, b0: number, b1: number, W: Float64Array, nin: number, A: Float64Array, a0: number, a1: number, m: number): void {
  let p = 0;
  for (; p + 4 <= m; p += 4) {
    const x0 = A[a0 + p];
    const x1 = A[a0 + p + 1];
    const x2 = A[a0 + p + 2];
    const x3 = A[a0 + p + 3];
    const y0 = A[a1 + p];
    const y1 = A[a1 + p + 1];
    const y2 = A[a1 + p + 2];
    const y3 = A[a1 + p + 3];
    if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0 && y0 === 0 && y1 === 0 && y2 === 0 && y3 === 0) continue;
    const r0 = p * nin;
    const r1 = r0 + nin;
    const r2 = r1 + nin;
    const r3 = r2 + nin;
    for (let t = 0; t < nin; t++) {
      const w0 = W[r0 + t];
      const w1 = W[r1 + t];
      const w2 = W[r2 + t];
      const w3 = W[r3 + t];
      B[b0 + t] += x0 * w0 + x1 * w1 + x2 * w2 + x3 * w3;
      B[b1 + t] += y0 * w0 + y1 * w1 + y2 * w2 + y3 * w3;
    }
  }
  for (; p < m; p++) {
    const x = A[a0 + p];
    const y = A[a1 + p];
    if (x === 0 && y === 0) continue;
    const r = p * nin;
    for (let t = 0; t < nin; t++) {
      const w = W[r + t];
      B[b0 + t] += x * w;
      B[b1 + t] += y * w;
    }
  }
}

/**
 * F (u rows on f's live activations `fc` of a layer: Lf, its pre-activation bounds zb) through their relaxation
 * (CROWN's) and f's affine map of that layer (W: its weights on the live parts, nB live columns below); the
 * constants go to cst and their magnitudes to mag.
 */
export function fDown(Lf: Layer, zb: { lo: Float64Array; hi: Float64Array }, fc: Int32Array, W: Float64Array, nB: number, F: Float64Array, u: number, cst: Float64Array, mag: Float64Array): Float64Array {
  const nF = fc.length;
  const Fn = new Float64Array(u * nB);
  for (let r = 0; r < u; r++) {
    const fo = r * nF;
    let c = 0;
    let mg = 0;
    for (let q = 0; q < nF; q++) {
      let w = F[fo + q];
      if (w === 0) continue;
      const t = fc[q];
      if (Lf.relu[t]) {
        const lo = zb.lo[t];
        const hi = zb.hi[t];
        if (lo < 0) {
          if (w < 0) {
            // the chord above relu over [lo, hi] (hi > 0: the dead are not live)
            const lam = hi / (hi - lo);
            c -= w * lam * lo;
            mg += Math.abs(w * lam * lo);
            w *= lam;
          } else if (!(hi > -lo)) w = 0;
        }
      }
      F[fo + q] = w;
      if (w === 0) continue;
      c += w * Lf.bias[t];
      mg += Math.abs(w * Lf.bias[t]);
    }
    cst[r] += c;
    mag[r] += mg;
  }
  for (let r = 0; r < u; r += 2) addRowsPair(Fn, r * nB, (r + 1) * nB, W, nB, F, r * nF, (r + 1) * nF, nF);
  return Fn;
}
