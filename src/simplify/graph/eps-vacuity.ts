/**
 * Whether a graph prune's L-infinity claim says nothing (as src/simplify/vacuity.ts for chains): an epsilon at least
 * the proved width of every output's range on the domain is met by any network whose outputs stay in that range. The
 * bounds are sound (CROWN over the domain's cover, wider than the domain), so a claim flagged is vacuous for certain.
 * One CROWN pass of f per hull of the cover: `prune` warns before its search, `check` reports it.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { coverDomain } from '../../verify/search/cover.ts';

/** Why |f - g| <= epsilon is vacuous on the domain, or null. */
export function graphVacuity(f: Graph, domain: readonly Box[], epsilon: number): string | null {
  let lo: Float64Array | undefined;
  let hi: Float64Array | undefined;
  for (const box of coverDomain([...domain]).boxes) {
    const b = graphCrownBounds(f, box).get(f.output.name)!;
    lo = lo ? lo.map((v, k) => Math.min(v, b.lo[k])) : Float64Array.from(b.lo);
    hi = hi ? hi.map((v, k) => Math.max(v, b.hi[k])) : Float64Array.from(b.hi);
  }
  let width = 0;
  for (let k = 0; k < lo!.length; k++) width = Math.max(width, hi![k] - lo![k]);
  return epsilon >= width ? `epsilon ${epsilon} is at least the width of every output's range on the domain (at most ${width.toPrecision(4)})` : null;
}
