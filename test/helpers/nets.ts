/** Small random networks and a plain interval bound, written independently of src/bounds for cross-checking. */
import type { Network, Layer } from '../../src/model/network.ts';
import type { Box } from '../../src/model/box.ts';
import type { NetworkBounds } from '../../src/bounds/types.ts';
import { mulberry32 } from '../../src/model/rng.ts';

export function randomNetwork(seed: number, sizes: number[], identityFraction = 0): Network {
  const rng = mulberry32(seed);
  const layers: Layer[] = [];
  for (let k = 1; k < sizes.length; k++) {
    const n = sizes[k - 1];
    const m = sizes[k];
    const w = new Float64Array(m * n);
    for (let i = 0; i < w.length; i++) w[i] = (rng() * 2 - 1) * (2 / Math.sqrt(n));
    const b = new Float64Array(m);
    for (let i = 0; i < m; i++) b[i] = (rng() * 2 - 1) * 0.5;
    const relu = new Uint8Array(m);
    if (k < sizes.length - 1) for (let i = 0; i < m; i++) relu[i] = rng() < identityFraction ? 0 : 1;
    layers.push({ inSize: n, outSize: m, weights: w, bias: b, relu });
  }
  return { inputSize: sizes[0], layers };
}

export function randomBox(seed: number, n: number, maxWidth = 2): Box {
  const rng = mulberry32(seed);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng() * 2 - 1;
    const w = rng() < 0.1 ? 0 : rng() * maxWidth;
    lo[i] = c - w / 2;
    hi[i] = c + w / 2;
  }
  return { lo, hi };
}

/** Textbook interval propagation, widened by a generous relative slack (test-only reference). */
export function naiveIntervalBounds(net: Network, box: Box): NetworkBounds {
  let lo = Array.from(box.lo);
  let hi = Array.from(box.hi);
  const out: NetworkBounds = [];
  for (const L of net.layers) {
    const zl = new Float64Array(L.outSize);
    const zh = new Float64Array(L.outSize);
    for (let i = 0; i < L.outSize; i++) {
      let a = L.bias[i];
      let b = L.bias[i];
      for (let j = 0; j < L.inSize; j++) {
        const w = L.weights[i * L.inSize + j];
        a += Math.min(w * lo[j], w * hi[j]);
        b += Math.max(w * lo[j], w * hi[j]);
      }
      const s = 1e-9 * (Math.abs(a) + Math.abs(b) + 1);
      zl[i] = a - s;
      zh[i] = b + s;
    }
    out.push({ lo: zl, hi: zh });
    lo = Array.from(zl, (v, i) => (L.relu[i] ? Math.max(v, 0) : v));
    hi = Array.from(zh, (v, i) => (L.relu[i] ? Math.max(v, 0) : v));
  }
  return out;
}
