/**
 * Whether a graph prune's L-infinity claim says nothing (src/simplify/vacuity.ts's test, with CROWN bounds of the
 * graph): one CROWN pass of f per hull of the domain's cover; `prune` warns before its search, `check` reports it.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { rangeVacuity } from '../vacuity.ts';

/** Why |f - g| <= epsilon is vacuous on the domain, or null. */
export function graphVacuity(f: Graph, domain: readonly Box[], epsilon: number): string | null {
  return rangeVacuity([...domain], epsilon, size(f.output.shape), (box) => graphCrownBounds(f, box).get(f.output.name)!);
}
