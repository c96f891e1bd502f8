/**
 * The pruning state: the original network f and, per hidden neuron, what was done to it. The derived network g is
 * built in f's coordinates (same shapes: a removed neuron keeps its row, its outgoing weights become zero), so the
 * verifier can bound g - f layer by layer; compaction (compact.ts) later drops the dead rows and columns, which
 * changes no floating-point result.
 */
import type { Network, Layer } from '../model/network.ts';
import { alignedPair, type AlignedPair } from '../verify/equiv/diff/diff-pair.ts';
import { fail } from '../errors.ts';

export const KEEP = 0;
/** removed: outgoing weights zeroed (never active, or within the tolerance) */
export const REMOVED = 1;
/** always active: the ReLU is dropped (identity activation) */
export const LINEAR = 2;
/** merged into another neuron of its layer: that neuron's outgoing weights absorb alpha x this one's */
export const MERGED = 3;
/** tolerance linearisation: replaced by the affine map s z + c (identity activation) */
export const AFFINE = 4;

export interface Edits {
  state: Uint8Array[];
  mergeInto: Int32Array[];
  mergeFactor: Float64Array[];
  affS: Float64Array[];
  affC: Float64Array[];
}

export function emptyEdits(f: Network): Edits {
  return {
    state: f.layers.map((L) => new Uint8Array(L.outSize)),
    mergeInto: f.layers.map((L) => new Int32Array(L.outSize).fill(-1)),
    mergeFactor: f.layers.map((L) => new Float64Array(L.outSize)),
    affS: f.layers.map((L) => new Float64Array(L.outSize).fill(1)),
    affC: f.layers.map((L) => new Float64Array(L.outSize)),
  };
}

export function cloneEdits(e: Edits): Edits {
  return {
    state: e.state.map((a) => a.slice()),
    mergeInto: e.mergeInto.map((a) => a.slice()),
    mergeFactor: e.mergeFactor.map((a) => a.slice()),
    affS: e.affS.map((a) => a.slice()),
    affC: e.affC.map((a) => a.slice()),
  };
}

/** Builds g (aligned with f) and the verifier's pairing hints. */
export function applyEdits(f: Network, e: Edits): AlignedPair {
  const layers: Layer[] = f.layers.map((L) => ({
    inSize: L.inSize,
    outSize: L.outSize,
    weights: Float64Array.from(L.weights),
    bias: Float64Array.from(L.bias),
    relu: Uint8Array.from(L.relu),
  }));
  const last = f.layers.length - 1;
  for (let k = 0; k < last; k++) {
    const L = layers[k];
    const next = layers[k + 1];
    const n = next.inSize;
    const st = e.state[k];
    for (let j = 0; j < L.outSize; j++) {
      const s = st[j];
      if (s === LINEAR) L.relu[j] = 0;
      else if (s === AFFINE) {
        const a = e.affS[k][j];
        const c = e.affC[k][j];
        for (let t = 0; t < L.inSize; t++) L.weights[j * L.inSize + t] *= a;
        L.bias[j] = a * L.bias[j] + c;
        L.relu[j] = 0;
      } else if (s === MERGED) {
        const q = e.mergeInto[k][j];
        const al = e.mergeFactor[k][j];
        for (let r = 0; r < next.outSize; r++) {
          next.weights[r * n + q] += al * f.layers[k + 1].weights[r * n + j];
        }
      }
    }
    // zero the outgoing weights of removed and merged neurons last, after merges have read f's columns
    for (let j = 0; j < L.outSize; j++) {
      if (st[j] === REMOVED || st[j] === MERGED) for (let r = 0; r < next.outSize; r++) next.weights[r * n + j] = 0;
    }
  }
  const g: Network = { inputSize: f.inputSize, layers };
  const pair = alignedPair(f, g);
  for (let k = 0; k < last; k++) {
    for (let j = 0; j < f.layers[k].outSize; j++) {
      const s = e.state[k][j];
      if (s === AFFINE) {
        pair.refScale[k][j] = e.affS[k][j];
        pair.refShift[k][j] = e.affC[k][j];
      } else if (s === MERGED) {
        pair.mergeInto[k][j] = e.mergeInto[k][j];
        pair.mergeFactor[k][j] = e.mergeFactor[k][j];
      }
    }
  }
  return pair;
}

export interface EditCounts {
  removed: number;
  linear: number;
  merged: number;
  affine: number;
}

export function countEdits(e: Edits): EditCounts {
  const c: EditCounts = { removed: 0, linear: 0, merged: 0, affine: 0 };
  for (let k = 0; k < e.state.length - 1; k++) {
    for (const s of e.state[k]) {
      if (s === REMOVED) c.removed++;
      else if (s === LINEAR) c.linear++;
      else if (s === MERGED) c.merged++;
      else if (s === AFFINE) c.affine++;
    }
  }
  return c;
}

export interface EditsJSON {
  state: number[][];
  mergeInto: number[][];
  mergeFactor: number[][];
  affS: number[][];
  affC: number[][];
}

export function editsToJSON(e: Edits): EditsJSON {
  return {
    state: e.state.map((a) => Array.from(a)),
    mergeInto: e.mergeInto.map((a) => Array.from(a)),
    mergeFactor: e.mergeFactor.map((a) => Array.from(a)),
    affS: e.affS.map((a) => Array.from(a)),
    affC: e.affC.map((a) => Array.from(a)),
  };
}

/** Rebuilds edits for network f from JSON, checking every array has f's shape (one-line errors). */
export function editsFromJSON(j: EditsJSON, f: Network, where: string): Edits {
  const shape = (name: keyof EditsJSON): number[][] => {
    const a = j?.[name];
    if (!Array.isArray(a) || a.length !== f.layers.length) fail(`${where}: edits.${name} does not match the network's layers`);
    a.forEach((row, k) => {
      if (!Array.isArray(row) || row.length !== f.layers[k].outSize) fail(`${where}: edits.${name}[${k}] has the wrong length`);
    });
    return a;
  };
  const e: Edits = {
    state: shape('state').map((r) => Uint8Array.from(r)),
    mergeInto: shape('mergeInto').map((r) => Int32Array.from(r)),
    mergeFactor: shape('mergeFactor').map((r) => Float64Array.from(r)),
    affS: shape('affS').map((r) => Float64Array.from(r)),
    affC: shape('affC').map((r) => Float64Array.from(r)),
  };
  e.mergeInto.forEach((r, k) =>
    r.forEach((q, p) => {
      if (q >= f.layers[k].outSize || (e.state[k][p] === MERGED && q < 0)) fail(`${where}: edits.mergeInto[${k}][${p}] is out of range`);
    }),
  );
  return e;
}
