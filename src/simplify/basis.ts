/**
 * Linear neurons of one layer whose incoming rows [w_i | b_i] are linearly dependent carry no information of their
 * own: z_d = C_d z_B for a basis B of the layer's linear neurons. Each dependent neuron d is removed and its outgoing
 * weights are re-expressed on the basis, W'[:, j] = W[:, j] + sum_d W[:, d] C_dj. A layer's linear rows have rank at
 * most inSize + 1, so on small domains (where many first-layer neurons are always active) this removes most of them.
 *
 * `basisStepBound` is the sound price of it in floating point: the residual of each re-expressed row, the rounding of
 * both networks' sums and of W', propagated through the later layers (ReLU and identity are 1-Lipschitz).
 */
import type { Layer, Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { BoundsFn } from '../verify/equiv/equiv.ts';
import { coverDomain } from '../verify/search/cover.ts';

const U = 2 ** -53;
const gamma = (n: number): number => ((n + 2) * U) / (1 - (n + 2) * U);
/** a row counts as dependent when its residual on the basis is below this fraction of its norm */
const DEP_REL = 1e-11;

export interface BasisStep {
  /** layer of the network it was applied to (the network before this step) */
  layer: number;
  basis: number[];
  dependent: number[];
  /** dependent.length x basis.length coefficients: z_d = sum_j coef[d][j] z_basis[j] */
  coef: Float64Array;
}

export interface BasisReduction {
  net: Network;
  steps: BasisStep[];
}

/** The rows [w_i | b_i] of layer k's linear neurons, split into a basis and dependents with their coefficients. */
function findBasis(L: Layer, k: number): BasisStep | null {
  const n = L.inSize;
  const D = n + 1;
  const lin: number[] = [];
  for (let i = 0; i < L.outSize; i++) if (!L.relu[i]) lin.push(i);
  if (lin.length < 2) return null;
  const row = (i: number): Float64Array => {
    const v = new Float64Array(D);
    v.set(L.weights.subarray(i * n, (i + 1) * n));
    v[n] = L.bias[i];
    return v;
  };
  // pivoted Gram-Schmidt: the basis grows by the row with the largest residual each time, which keeps the basis
  // well conditioned and the coefficients small (so is their rounding); ties go to the lower index (deterministic)
  const norm = (v: Float64Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const rows = lin.map(row);
  const norms = rows.map(norm);
  const resid = rows.map((v) => v.slice());
  const inBasis = new Uint8Array(lin.length);
  const Q: Float64Array[] = [];
  for (;;) {
    let best = -1;
    let bestN = 0;
    for (let a = 0; a < lin.length; a++) {
      if (inBasis[a]) continue;
      const nr = norm(resid[a]);
      if (nr > DEP_REL * norms[a] && nr > bestN) {
        best = a;
        bestN = nr;
      }
    }
    if (best < 0) break;
    inBasis[best] = 1;
    const q = resid[best].map((x) => x / bestN);
    // re-orthogonalise against the earlier directions once more (classical Gram-Schmidt loses orthogonality)
    for (const p of Q) {
      let dot = 0;
      for (let t = 0; t < D; t++) dot += p[t] * q[t];
      for (let t = 0; t < D; t++) q[t] -= dot * p[t];
    }
    const nq = norm(q);
    for (let t = 0; t < D; t++) q[t] /= nq;
    Q.push(q);
    for (let a = 0; a < lin.length; a++) {
      if (inBasis[a]) continue;
      let dot = 0;
      for (let t = 0; t < D; t++) dot += q[t] * resid[a][t];
      for (let t = 0; t < D; t++) resid[a][t] -= dot * q[t];
    }
  }
  const basis: number[] = [];
  const dependent: number[] = [];
  lin.forEach((i, a) => (inBasis[a] ? basis : dependent).push(i));
  if (dependent.length === 0) return null;
  // least squares on the basis rows: G c = V_B v_d with the Gram matrix G = V_B V_B^T (small: at most n + 1)
  const m = basis.length;
  const VB = basis.map(row);
  const G = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) G[a * m + b] = VB[a].reduce((s, x, t) => s + x * VB[b][t], 0);
  const coef = new Float64Array(dependent.length * m);
  dependent.forEach((d, di) => {
    const vd = row(d);
    const rhs = VB.map((vb) => vb.reduce((s, x, t) => s + x * vd[t], 0));
    const c = solve(G, Float64Array.from(rhs), m);
    coef.set(c, di * m);
  });
  return { layer: k, basis, dependent, coef };
}

/** Gaussian elimination with partial pivoting (G is small and, for a basis, well enough conditioned). */
function solve(G: Float64Array, rhs: Float64Array, m: number): Float64Array {
  const A = G.slice();
  const x = rhs.slice();
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r * m + c]) > Math.abs(A[p * m + c])) p = r;
    if (p !== c) {
      for (let t = 0; t < m; t++) [A[c * m + t], A[p * m + t]] = [A[p * m + t], A[c * m + t]];
      [x[c], x[p]] = [x[p], x[c]];
    }
    const piv = A[c * m + c];
    for (let r = c + 1; r < m; r++) {
      const f = A[r * m + c] / piv;
      if (f === 0) continue;
      for (let t = c; t < m; t++) A[r * m + t] -= f * A[c * m + t];
      x[r] -= f * x[c];
    }
  }
  for (let c = m - 1; c >= 0; c--) {
    let s = x[c];
    for (let t = c + 1; t < m; t++) s -= A[c * m + t] * x[t];
    x[c] = s / A[c * m + c];
  }
  return x;
}

/** Applies one step: drops the dependent neurons of layer k, re-expressing their outgoing weights on the basis. */
export function applyBasisStep(net: Network, s: BasisStep): Network {
  const k = s.layer;
  const L = net.layers[k];
  const next = net.layers[k + 1];
  const dep = new Set(s.dependent);
  const keep: number[] = [];
  for (let i = 0; i < L.outSize; i++) if (!dep.has(i)) keep.push(i);
  const n = L.inSize;
  const layerK: Layer = {
    inSize: n,
    outSize: keep.length,
    weights: new Float64Array(keep.length * n),
    bias: Float64Array.from(keep, (i) => L.bias[i]),
    relu: Uint8Array.from(keep, (i) => L.relu[i]),
  };
  keep.forEach((i, r) => layerK.weights.set(L.weights.subarray(i * n, (i + 1) * n), r * n));
  const m = s.basis.length;
  const pos = new Map(keep.map((i, r) => [i, r]));
  const W = new Float64Array(next.outSize * keep.length);
  for (let r = 0; r < next.outSize; r++) {
    keep.forEach((i, c) => (W[r * keep.length + c] = next.weights[r * next.inSize + i]));
    s.dependent.forEach((d, di) => {
      const w = next.weights[r * next.inSize + d];
      if (w === 0) return;
      for (let j = 0; j < m; j++) W[r * keep.length + pos.get(s.basis[j])!] += w * s.coef[di * m + j];
    });
  }
  const layerK1: Layer = { inSize: keep.length, outSize: next.outSize, weights: W, bias: next.bias.slice(), relu: next.relu.slice() };
  const layers = net.layers.slice();
  layers[k] = layerK;
  layers[k + 1] = layerK1;
  return { inputSize: net.inputSize, layers };
}

/** Sup over the domain of |activation| of every layer (layer -1 = the input), from sound bounds. */
function absActivations(net: Network, domain: Box[], boundsFn: BoundsFn): { absIn: Float64Array; absPre: Float64Array[]; absPost: Float64Array[] } {
  const absIn = new Float64Array(net.inputSize);
  const absPre = net.layers.map((L) => new Float64Array(L.outSize));
  const absPost = net.layers.map((L) => new Float64Array(L.outSize));
  // very many boxes: their hulls in groups (cover.ts), a sound superset
  for (const box of coverDomain(domain).boxes) {
    for (let i = 0; i < net.inputSize; i++) absIn[i] = Math.max(absIn[i], Math.abs(box.lo[i]), Math.abs(box.hi[i]));
    const b = boundsFn(net, box);
    net.layers.forEach((L, k) => {
      for (let j = 0; j < L.outSize; j++) {
        const a = Math.max(Math.abs(b[k].lo[j]), Math.abs(b[k].hi[j]));
        absPre[k][j] = Math.max(absPre[k][j], a);
        absPost[k][j] = Math.max(absPost[k][j], L.relu[j] ? Math.max(0, b[k].hi[j]) : a);
      }
    });
  }
  return { absIn, absPre, absPost };
}

/**
 * Sound bound of max |R(x) - N(x)| over the domain, for R = applyBasisStep(N, s), both evaluated in float64.
 */
export function basisStepBound(N: Network, s: BasisStep, domain: Box[], boundsFn: BoundsFn): number {
  const R = applyBasisStep(N, s);
  const k = s.layer;
  const L = N.layers[k];
  const next = N.layers[k + 1];
  const n = L.inSize;
  const { absIn, absPre, absPost } = absActivations(N, domain, boundsFn);
  const aIn = k === 0 ? absIn : absPost[k - 1];
  // rounding of each neuron's own sum in layer k (identical in both networks, but it enters the residual)
  const rhoOf = Float64Array.from({ length: L.outSize }, (_, i) => {
    let s2 = Math.abs(L.bias[i]);
    for (let t = 0; t < n; t++) s2 += Math.abs(L.weights[i * n + t]) * aIn[t];
    return gamma(n + 1) * s2;
  });
  const rho = (i: number): number => rhoOf[i];
  const m = s.basis.length;
  const resid = s.dependent.map((d, di) => {
    // |row_d - C_d V_B| elementwise, computed plus its own rounding, times |a| (and 1 for the bias)
    let e = 0;
    let cAbs = 0;
    for (let t = 0; t <= n; t++) {
      const get = (i: number): number => (t < n ? L.weights[i * n + t] : L.bias[i]);
      let r = get(d);
      let mag = Math.abs(r);
      for (let j = 0; j < m; j++) {
        const c = s.coef[di * m + j];
        r -= c * get(s.basis[j]);
        mag += Math.abs(c * get(s.basis[j]));
      }
      e += (Math.abs(r) + gamma(m + 1) * mag) * (t < n ? aIn[t] : 1);
    }
    for (let j = 0; j < m; j++) cAbs += Math.abs(s.coef[di * m + j]) * rho(s.basis[j]);
    return e + rho(d) + cAbs;
  });
  // error at layer k+1's pre-activations
  const Rn = R.layers[k + 1];
  let err = new Float64Array(next.outSize);
  const basisCol = new Map(s.basis.map((b, j) => [b, j]));
  const dep = new Set(s.dependent);
  for (let r = 0; r < next.outSize; r++) {
    let e = 0;
    s.dependent.forEach((d, di) => (e += Math.abs(next.weights[r * next.inSize + d]) * resid[di]));
    // rounding of W' = W + sum_d W_d C_d, times |z_j| of the basis neuron
    for (const [b, j] of basisCol) {
      let mag = Math.abs(next.weights[r * next.inSize + b]);
      s.dependent.forEach((d, di) => (mag += Math.abs(next.weights[r * next.inSize + d] * s.coef[di * m + j])));
      e += gamma(s.dependent.length + 1) * mag * (absPre[k][b] + rho(b));
    }
    // rounding of the two networks' sums
    let magN = Math.abs(next.bias[r]);
    for (let i = 0; i < next.inSize; i++) magN += Math.abs(next.weights[r * next.inSize + i]) * absPost[k][i];
    let magR = Math.abs(next.bias[r]);
    let c = 0;
    for (let i = 0; i < L.outSize; i++) {
      if (dep.has(i)) continue;
      magR += Math.abs(Rn.weights[r * Rn.inSize + c]) * absPost[k][i];
      c++;
    }
    err[r] = (e + gamma(next.inSize + 1) * (magN + magR)) * (1 + 1e-6);
  }
  // through the later layers: the same weights, 1-Lipschitz activations, plus both networks' rounding
  for (let l = k + 2; l < N.layers.length; l++) {
    const Ll = N.layers[l];
    const nn = Ll.inSize;
    const out = new Float64Array(Ll.outSize);
    for (let r = 0; r < Ll.outSize; r++) {
      let e = 0;
      let mag = Math.abs(Ll.bias[r]);
      for (let j = 0; j < nn; j++) {
        const w = Math.abs(Ll.weights[r * nn + j]);
        e += w * err[j];
        mag += w * (absPost[l - 1][j] + err[j]);
      }
      out[r] = (e + 2 * gamma(nn + 1) * mag) * (1 + 1e-6);
    }
    err = out;
  }
  return err.reduce((a, b) => Math.max(a, b), 0);
}

/**
 * Reduces every hidden layer's linear neurons to a basis, layer by layer (deterministic, so the final check can
 * re-derive it from the pruned network). With `check`, also returns a sound bound of max |reduced - N|.
 */
export function reduceLinearBasis(N: Network, check?: { domain: Box[]; boundsFn: BoundsFn }): BasisReduction & { bound: number } {
  let cur = N;
  let bound = 0;
  const steps: BasisStep[] = [];
  for (let k = 0; k < cur.layers.length - 1; k++) {
    const s = findBasis(cur.layers[k], k);
    if (!s) continue;
    if (check) bound += basisStepBound(cur, s, check.domain, check.boundsFn);
    steps.push(s);
    cur = applyBasisStep(cur, s);
  }
  return { net: cur, steps, bound };
}
