/**
 * A sound bound on |g_written(x) - g_ref(x)| over a domain when g_written is g_ref with linear layers folded and/or
 * weights rounded (float32 storage): the two share every ReLU, only the affine maps between them differ, by rounding.
 * Per written layer i standing for reference layers G = [k0..km] (all but the last linear):
 *   z_w - z_ref = W_i (a_w - a_ref) + (W_i - P) a_ref + (b_i - p),   P, p = the exact composition of G's layers,
 * with |fl(P) - P| <= gamma_N |W_km|...|W_k0| (standard product error bound), |a_ref| from sound bounds of g_ref,
 * and ReLU / identity being 1-Lipschitz so the error passes through activations unchanged.
 */
import type { Layer, Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { BoundsFn } from '../verify/equiv/equiv.ts';
import { composeLayers } from './fold.ts';
import { coverDomain } from '../verify/search/cover.ts';

const U = 2 ** -53;

/** The stored network is not what the certificate's edits and groups describe (pairingMismatch says how). */
export class PairingMismatch extends Error {}

function absLayer(L: Layer): Layer {
  return {
    inSize: L.inSize,
    outSize: L.outSize,
    weights: L.weights.map(Math.abs),
    bias: L.bias.map(Math.abs),
    relu: new Uint8Array(L.outSize),
  };
}

/**
 * Why the bound below does not apply to this pair, or null when it does. It holds only when the written network is
 * g_ref with affine maps changed: the groups cover g_ref's layers in order, one group per written layer, every layer
 * of a group but its last has no ReLU, and each written neuron has the activation of the reference neuron it stands
 * for. A certificate's groups are not trusted: a stored network whose activations differ (a ReLU switched to
 * identity) is reported here, never bounded as if they were the same.
 */
export function pairingMismatch(ref: Network, written: Network, groups: number[][]): string | null {
  if (groups.length !== written.layers.length) return `${groups.length} layer groups for a stored network of ${written.layers.length} layers`;
  const flat = groups.flat();
  if (flat.length !== ref.layers.length || flat.some((k, i) => k !== i)) return `the layer groups [${groups.map((g) => g.join(',')).join('][')}] do not cover the ${ref.layers.length} layers in order`;
  for (const [i, G] of groups.entries()) {
    const inner = G.slice(0, -1).find((k) => ref.layers[k].relu.some((r) => r !== 0));
    if (inner !== undefined) return `group ${i + 1} folds layer ${inner + 1}, which has ReLUs`;
    const R = ref.layers[G[G.length - 1]];
    const W = written.layers[i];
    if (W.outSize !== R.outSize) return `stored layer ${i + 1} has ${W.outSize} neurons where the edits give ${R.outSize}`;
    for (let r = 0; r < W.outSize; r++) {
      if (W.relu[r] !== R.relu[r]) return `stored layer ${i + 1} neuron ${r} is ${W.relu[r] ? 'ReLU' : 'identity'} where the edits give ${R.relu[r] ? 'ReLU' : 'identity'}`;
    }
  }
  return null;
}

/** Returns a sound upper bound of max |g_written - g_ref| over the domain (0 when they are the same numbers). */
export function refactorBound(ref: Network, written: Network, groups: number[][], domain: Box[], boundsFn: BoundsFn): number {
  const why = pairingMismatch(ref, written, groups);
  if (why) throw new PairingMismatch(why);
  // |a_ref| bounds at every reference layer's output, as a hull over the domain boxes
  const absPost: Float64Array[] = ref.layers.map((L) => new Float64Array(L.outSize));
  const absIn = new Float64Array(ref.inputSize);
  // over the domain's cover (hulls of groups of its boxes when there are many): each holds its boxes, so sound
  for (const box of coverDomain(domain).boxes) {
    for (let i = 0; i < ref.inputSize; i++) absIn[i] = Math.max(absIn[i], Math.abs(box.lo[i]), Math.abs(box.hi[i]));
    const b = boundsFn(ref, box);
    ref.layers.forEach((L, k) => {
      for (let j = 0; j < L.outSize; j++) {
        const lo = L.relu[j] ? Math.max(b[k].lo[j], 0) : b[k].lo[j];
        const hi = L.relu[j] ? Math.max(b[k].hi[j], 0) : b[k].hi[j];
        absPost[k][j] = Math.max(absPost[k][j], Math.abs(lo), Math.abs(hi));
      }
    });
  }
  let err = new Float64Array(ref.inputSize);
  groups.forEach((G, i) => {
    const Wl = written.layers[i];
    let comp = ref.layers[G[0]];
    let absComp = absLayer(comp);
    let inner = comp.inSize;
    for (let t = 1; t < G.length; t++) {
      const nx = ref.layers[G[t]];
      inner += nx.inSize + 1;
      comp = composeLayers(comp, nx);
      absComp = composeLayers(absComp, absLayer(nx));
    }
    if (comp.inSize !== Wl.inSize || comp.outSize !== Wl.outSize) throw new PairingMismatch(`stored layer ${i + 1} has shape ${Wl.outSize}x${Wl.inSize} where the edits give ${comp.outSize}x${comp.inSize}`);
    const gamma = G.length > 1 ? ((inner + 2) * U) / (1 - (inner + 2) * U) : 0;
    const aIn = G[0] === 0 ? absIn : absPost[G[0] - 1];
    const n = Wl.inSize;
    const next = new Float64Array(Wl.outSize);
    for (let r = 0; r < Wl.outSize; r++) {
      let e = Math.abs(Wl.bias[r] - comp.bias[r]) + gamma * absComp.bias[r] * (1 + 1e-6);
      let mag = Math.abs(Wl.bias[r]) + Math.abs(comp.bias[r]);
      for (let j = 0; j < n; j++) {
        const w = Wl.weights[r * n + j];
        const dW = Math.abs(w - comp.weights[r * n + j]) + gamma * absComp.weights[r * n + j] * (1 + 1e-6);
        e += Math.abs(w) * err[j] + dW * aIn[j];
        mag += (Math.abs(w) + Math.abs(comp.weights[r * n + j])) * aIn[j];
      }
      // rounding of this bound's own arithmetic, plus the evaluation-order difference of the two networks' sums
      next[r] = e * (1 + 4 * (n + 4) * U) + 2 * (n + 4) * U * mag;
    }
    err = next;
  });
  let m = 0;
  for (const v of err) m = Math.max(m, v);
  return m;
}
