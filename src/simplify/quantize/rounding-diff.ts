/**
 * A tighter bound of float32 evaluation: each layer's own rounding is an additive perturbation delta_k of its
 * pre-activations (|delta_k| <= fresh_k, rounding.ts), so the float32 output is h(x, delta) for the chain h that
 * takes the deltas as extra inputs (carried forward by linear pass-through neurons and added to each layer), and
 * g(x) = h(x, 0). The difference h(x, delta) - h(x, 0) is bounded by the layer-by-layer difference engine on one
 * box (x's box times the deltas' box), which keeps the cancellations the |W| products of rounding.ts give away.
 */
import { makeBox, type Box } from '../../model/box.ts';
import type { Layer, Network } from '../../model/network.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import { checkLinf } from '../../verify/equiv/equiv.ts';
import { alignedPair } from '../../verify/equiv/diff/diff-pair.ts';

/** h with the deltas' coefficient `unit` (1: perturbed; 0: g itself, the deltas read and ignored). */
function withDeltas(net: Network, unit: 0 | 1): Network {
  const sizes = net.layers.map((L) => L.outSize);
  const after = (k: number): number => sizes.slice(k + 1).reduce((a, b) => a + b, 0);
  const layers: Layer[] = net.layers.map((L, k) => {
    const carried = after(k); // deltas of the layers after k, passed through
    const inSize = L.inSize + L.outSize + carried;
    const outSize = L.outSize + carried;
    const w = new Float64Array(outSize * inSize);
    for (let j = 0; j < L.outSize; j++) {
      w.set(L.weights.subarray(j * L.inSize, (j + 1) * L.inSize), j * inSize);
      w[j * inSize + L.inSize + j] = unit;
    }
    for (let t = 0; t < carried; t++) w[(L.outSize + t) * inSize + L.inSize + L.outSize + t] = 1;
    const relu = new Uint8Array(outSize);
    relu.set(L.relu);
    const bias = new Float64Array(outSize);
    bias.set(L.bias);
    return { inSize, outSize, weights: w, bias, relu };
  });
  return { inputSize: net.inputSize + sizes.reduce((a, b) => a + b, 0), layers };
}

/** max |float32 output - exact output| on `box`, given each layer's own rounding bound `fresh` (Infinity: none). */
export function propagatedRounding(net: Network, box: Box, fresh: Float64Array[], boundsFn: (net: Network, box: Box) => NetworkBounds): number {
  const lo = [...box.lo, ...fresh.flatMap((f) => Array.from(f, (v) => -v))];
  const hi = [...box.hi, ...fresh.flatMap((f) => Array.from(f))];
  const r = checkLinf(alignedPair(withDeltas(net, 1), withDeltas(net, 0)), [makeBox(lo, hi)], 0, { boundsFn, timeoutMs: 1000, maxBoxes: 1, samples: 16, seed: 1 });
  return Number.isFinite(r.provedBound) ? r.provedBound : Infinity;
}
