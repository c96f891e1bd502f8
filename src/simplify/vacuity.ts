/**
 * Whether an L-infinity claim says nothing: an epsilon at least the proved width of every output's range on the
 * domain is met by any network whose outputs stay in that range (a constant one, say). The bounds are sound, so a
 * claim flagged here is vacuous for certain (one not flagged may still be nearly so). `prune` warns before its work,
 * `check` reports it.
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NetworkBounds } from '../bounds/types.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import { coverDomain } from '../verify/search/cover.ts';

/** Why |f - g| <= epsilon is vacuous, given sound bounds of f's `outputs` outputs on a box (chains and graphs). */
export function rangeVacuity(domain: Box[], epsilon: number, outputs: number, outputBounds: (box: Box) => { lo: ArrayLike<number>; hi: ArrayLike<number> }): string | null {
  let width = 0;
  const lo = new Float64Array(outputs).fill(Infinity);
  const hi = new Float64Array(outputs).fill(-Infinity);
  // over the domain's cover (at most 256 hulls, each holding its boxes): wider, so still a sound test
  for (const box of coverDomain(domain).boxes) {
    const b = outputBounds(box);
    for (let k = 0; k < lo.length; k++) {
      lo[k] = Math.min(lo[k], b.lo[k]);
      hi[k] = Math.max(hi[k], b.hi[k]);
    }
  }
  for (let k = 0; k < lo.length; k++) width = Math.max(width, hi[k] - lo[k]);
  return epsilon >= width ? `epsilon ${epsilon} is at least the width of every output's range on the domain (at most ${width.toPrecision(4)})` : null;
}

/** Why the claim is vacuous, or null. */
export function vacuity(f: Network, domain: Box[], t: Tolerance, bounds: (net: Network, box: Box) => NetworkBounds): string | null {
  if (t.kind !== 'linf') return null;
  const out = f.layers.length - 1;
  return rangeVacuity(domain, t.epsilon, f.layers[out].outSize, (box) => bounds(f, box)[out]);
}
