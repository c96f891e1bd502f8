/**
 * A network g derived from f (neurons removed, merged, made linear, weights rounded), kept in f's neuron
 * coordinates so the difference g - f can be bounded layer by layer (ReluDiff-style) instead of treating the two
 * as strangers. The hints below only guide how the difference is decomposed: every term is bounded soundly for
 * ANY weights of g, so a wrong hint makes a proof fail, never a false proof.
 */
import type { Network } from '../../../model/network.ts';
import { fail } from '../../../errors.ts';

export interface AlignedPair {
  f: Network;
  /** same layer sizes as f; a removed neuron has zero outgoing weights in g */
  g: Network;
  /**
   * per layer, per neuron: g's pre-activation is meant to equal refScale * (f's pre-activation) + refShift
   * (1 and 0 for an untouched neuron; a linearised neuron keeps 1, 0 and changes its activation instead)
   */
  refScale: Float64Array[];
  refShift: Float64Array[];
  /** per layer, per neuron: -1, or the neuron of the same layer this one was merged into */
  mergeInto: Int32Array[];
  /** with mergeInto: f's neuron p is meant to equal mergeFactor[p] * (f's neuron q), factor > 0 */
  mergeFactor: Float64Array[];
}

/** The trivial pairing: g has f's shape, no hints. */
export function alignedPair(f: Network, g: Network): AlignedPair {
  if (f.inputSize !== g.inputSize || f.layers.length !== g.layers.length) {
    fail('aligned pair: the two networks differ in input size or depth');
  }
  f.layers.forEach((L, k) => {
    if (L.outSize !== g.layers[k].outSize) fail(`aligned pair: layer ${k + 1} sizes differ`);
  });
  return {
    f,
    g,
    refScale: f.layers.map((L) => new Float64Array(L.outSize).fill(1)),
    refShift: f.layers.map((L) => new Float64Array(L.outSize)),
    mergeInto: f.layers.map((L) => new Int32Array(L.outSize).fill(-1)),
    mergeFactor: f.layers.map((L) => new Float64Array(L.outSize)),
  };
}
