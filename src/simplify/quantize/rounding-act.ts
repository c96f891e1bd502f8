/**
 * The float32 evaluation bound of a chain whose hidden outputs are stored quantised (activations.ts), by the device
 * of rounding-diff.ts: the evaluation is h(x, delta, eta) for the chain h that takes as extra inputs each layer's
 * own rounding delta_k (added to its pre-activations) and each stored activation's error eta_k (added to layer k's
 * output, so it enters layer k + 1 through W_{k+1}, as the stored value does), |delta_k| <= fresh_k and
 * |eta_k| <= acts_k (rounding.ts roundingOnBox); g(x) = h(x, 0, 0). The difference engine bounds h - g on one box,
 * keeping the cancellations that the |W| products of the interval bound give away.
 */
import { makeBox, type Box } from '../../model/box.ts';
import type { Layer, Network } from '../../model/network.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import { checkLinf } from '../../verify/equiv/equiv.ts';
import { alignedPair } from '../../verify/equiv/diff/diff-pair.ts';

const sum = (a: number[], from: number, to: number): number => a.slice(from, to).reduce((s, v) => s + v, 0);

/**
 * Layer k of h reads [x_k, delta_k .. delta_last, eta_(k-1) .. eta_(last-1)] and gives [x_(k+1), delta_(k+1) ..,
 * eta_k ..]: its own neurons take W_k x_k + unit (delta_k + W_k eta_(k-1)), the other entries pass through.
 * unit 0: g itself, the extra inputs read and ignored.
 */
function actLayer(net: Network, k: number, unit: 0 | 1): Layer {
  const L = net.layers[k];
  const out = net.layers.map((M) => M.outSize);
  const last = out.length - 1;
  const dAfter = sum(out, k + 1, last + 1);
  const etaIn = k === 0 ? 0 : out[k - 1]; // eta_(k-1): as many as layer k's inputs
  const etaAfter = sum(out, k, last);
  const inSize = L.inSize + L.outSize + dAfter + etaIn + etaAfter;
  const outSize = L.outSize + dAfter + etaAfter;
  const w = new Float64Array(outSize * inSize);
  const etaAt = L.inSize + L.outSize + dAfter;
  for (let j = 0; j < L.outSize; j++) {
    const row = L.weights.subarray(j * L.inSize, (j + 1) * L.inSize);
    w.set(row, j * inSize);
    w[j * inSize + L.inSize + j] = unit;
    if (unit && etaIn) w.set(row, j * inSize + etaAt);
  }
  for (let t = 0; t < dAfter; t++) w[(L.outSize + t) * inSize + L.inSize + L.outSize + t] = 1;
  for (let t = 0; t < etaAfter; t++) w[(L.outSize + dAfter + t) * inSize + etaAt + etaIn + t] = 1;
  const relu = new Uint8Array(outSize);
  relu.set(L.relu);
  const bias = new Float64Array(outSize);
  bias.set(L.bias);
  return { inSize, outSize, weights: w, bias, relu };
}

function withActDeltas(net: Network, unit: 0 | 1): Network {
  const extra = net.layers.reduce((s, L) => s + L.outSize, 0) + sum(net.layers.map((L) => L.outSize), 0, net.layers.length - 1);
  return { inputSize: net.inputSize + extra, layers: net.layers.map((_, k) => actLayer(net, k, unit)) };
}

/**
 * max |float32 output - exact output| on `box`, given each layer's own rounding bound `fresh` and each stored
 * activation's error bound `acts` (one array per layer; the last layer's output is not stored: ignored).
 */
export function propagatedActRounding(net: Network, box: Box, fresh: Float64Array[], acts: Float64Array[], boundsFn: (net: Network, box: Box) => NetworkBounds): number {
  const hidden = acts.slice(0, -1);
  if ([...fresh, ...hidden].some((a) => a.some((v) => !Number.isFinite(v)))) return Infinity;
  const lo = [...box.lo, ...fresh.flatMap((f) => Array.from(f, (v) => -v)), ...hidden.flatMap((a) => Array.from(a, (v) => -v))];
  const hi = [...box.hi, ...fresh.flatMap((f) => Array.from(f)), ...hidden.flatMap((a) => Array.from(a))];
  const r = checkLinf(alignedPair(withActDeltas(net, 1), withActDeltas(net, 0)), [makeBox(lo, hi)], 0, { boundsFn, timeoutMs: 1000, maxBoxes: 1, samples: 16, seed: 1 });
  return Number.isFinite(r.provedBound) ? r.provedBound : Infinity;
}
