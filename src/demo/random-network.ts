/** Seeded random dense ReLU networks (uniform weights scaled by 1/sqrt(fan-in)), for tests, demos and benchmarks. */
import type { Layer, Network } from '../model/network.ts';
import { mulberry32 } from '../model/rng.ts';

export interface RandomNetworkOptions {
  /** fraction of hidden neurons made linear (identity activation) */
  identityFraction?: number;
  weightScale?: number;
  biasScale?: number;
}

export function randomNetwork(seed: number, sizes: number[], opts: RandomNetworkOptions | number = {}): Network {
  const o = typeof opts === 'number' ? { identityFraction: opts } : opts;
  const rng = mulberry32(seed);
  const layers: Layer[] = [];
  for (let k = 1; k < sizes.length; k++) {
    const n = sizes[k - 1];
    const m = sizes[k];
    const w = new Float64Array(m * n);
    for (let i = 0; i < w.length; i++) w[i] = (rng() * 2 - 1) * ((o.weightScale ?? 2) / Math.sqrt(n));
    const b = new Float64Array(m);
    for (let i = 0; i < m; i++) b[i] = (rng() * 2 - 1) * (o.biasScale ?? 0.5);
    const relu = new Uint8Array(m);
    if (k < sizes.length - 1) for (let i = 0; i < m; i++) relu[i] = (o.identityFraction ?? 0) > 0 && rng() < o.identityFraction! ? 0 : 1;
    layers.push({ inSize: n, outSize: m, weights: w, bias: b, relu });
  }
  return { inputSize: sizes[0], layers };
}
