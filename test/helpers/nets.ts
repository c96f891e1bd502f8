/** Small random networks and a plain interval bound, written independently of src/bounds for cross-checking. */
import { forwardTrace, type Network } from '../../src/model/network.ts';
import type { Box } from '../../src/model/box.ts';
import type { NetworkBounds } from '../../src/bounds/types.ts';
import { mulberry32 } from '../../src/model/rng.ts';

export { randomNetwork } from '../../src/demo/random-network.ts';

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

/** A (G+1) x (G+1) grid over a 2-input box and the network's trace on it (an independent view of the function). */
export function boxGrid(net: Network, box: Box, G: number) {
  const count = (G + 1) * (G + 1);
  const xs = new Float64Array(count * 2);
  for (let a = 0; a <= G; a++) {
    for (let q = 0; q <= G; q++) {
      const s = a * (G + 1) + q;
      xs[2 * s] = box.lo[0] + ((box.hi[0] - box.lo[0]) * a) / G;
      xs[2 * s + 1] = box.lo[1] + ((box.hi[1] - box.lo[1]) * q) / G;
    }
  }
  return { xs, count, tr: forwardTrace(net, xs, count) };
}
