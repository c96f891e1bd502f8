/**
 * An exact, brute-force reference for small networks: the minimum of c . z_k over a box is the smallest of the
 * minima over every activation pattern of the ReLUs below layer k, where the network is affine and one LP (HiGHS)
 * gives the minimum. Values are plain evaluations at the LPs' minimisers, so every one is really attained. Needs the
 * solver loaded; exponential in the number of ReLUs below k (tests keep it to about ten).
 */
import { forwardTrace, type Network } from '../../src/model/network.ts';
import type { Box } from '../../src/model/box.ts';
import { regionArgmin } from '../../src/verify/search/linear-region.ts';

export function exactMin(net: Network, box: Box, k: number, c: Float64Array): { value: number; x: Float64Array; patterns: number } {
  const relus: Array<[number, number]> = [];
  for (let l = 0; l < k; l++) for (let i = 0; i < net.layers[l].outSize; i++) if (net.layers[l].relu[i]) relus.push([l, i]);
  if (relus.length > 16) throw new Error(`exactMin: ${relus.length} ReLUs below layer ${k}, too many to enumerate`);
  let best = Infinity;
  let bestX: Float64Array | undefined;
  let feasible = 0;
  for (let pattern = 0; pattern < 1 << relus.length; pattern++) {
    const on = new Map<number, boolean>();
    relus.forEach(([l, i], b) => on.set(l * 10_000 + i, ((pattern >> b) & 1) === 1));
    const x = regionArgmin(net, box, k, c, (l, i) => ({ active: on.get(l * 10_000 + i)!, enforce: true }), 5000);
    if (!x) continue;
    feasible++;
    const z = forwardTrace(net, x, 1).pre[k];
    let v = 0;
    for (let i = 0; i < c.length; i++) v += c[i] * z[i];
    if (v < best) {
      best = v;
      bestX = x;
    }
  }
  if (!bestX) throw new Error('exactMin: no activation pattern was feasible');
  return { value: best, x: bestX, patterns: feasible };
}

export function exactMax(net: Network, box: Box, k: number, c: Float64Array): { value: number; x: Float64Array; patterns: number } {
  const r = exactMin(net, box, k, c.map((v) => -v));
  return { ...r, value: -r.value };
}
