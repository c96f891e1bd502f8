/**
 * How the searches bound a network: the bound function they are given (CROWN, with phase facts or not)
 * and the lower bound of a linear function of the outputs. Every search of verify/ takes these (the property
 * search, the census, the equivalence checks); so does the caller that chooses them.
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NetworkBounds } from '../bounds/types.ts';

/** Bounds of every layer over a box; `parent`, if given, holds sound bounds over a box that contains it. */
export type BoundsFn = (net: Network, box: Box, parent?: NetworkBounds) => NetworkBounds;

/** A sound lower bound of c . f(x) over the box (c over f's outputs), given f's bounds there. */
export type OutputLinearLower = (net: Network, box: Box, fb: NetworkBounds, c: Float64Array) => number;

/**
 * `base` with proved phase facts of `net` applied to its bounds (never active: upper bound at most 0; always
 * active: lower bound at least 0). Facts proved on a domain hold on every box inside it; other networks are
 * bounded by `base` as they are.
 */
export function withPhaseFacts(base: BoundsFn, net: Network, facts: Array<{ layer: number; index: number; sign: 1 | -1 }>): BoundsFn {
  if (!facts.length) return base;
  return (n, box, parent) => {
    const b = base(n, box, parent);
    if (n !== net) return b;
    for (const p of facts) {
      if (p.sign < 0) b[p.layer].hi[p.index] = Math.min(b[p.layer].hi[p.index], 0);
      else b[p.layer].lo[p.index] = Math.max(b[p.layer].lo[p.index], 0);
    }
    return b;
  };
}
