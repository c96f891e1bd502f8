/**
 * Witness search for the elements the proofs leave open: projected gradient descent (attack.ts) pushes the one
 * element across its kink, to the side its open claim denies; the point found is evaluated (recordBatch) and
 * counts only by its plain forward values, for that element and every other.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import { descend, linearObjective, startPoints } from './attack.ts';
import { recordBatch, type Site, type Witnesses } from './census-sites.ts';
import type { Candidate } from './census-prove.ts';

export interface AttackOptions {
  steps: number;
  starts: number;
  seed: number;
}

/** Descends on the box from a few starts; true when the point found witnesses the side against the claim. */
export function attackCandidate(g: Graph, sites: readonly Site[], w: Witnesses, box: Box, cand: Candidate, o: AttackOptions): boolean {
  const site = sites[cand.site];
  const against = cand.dir === 'never' ? w.above : w.below;
  const n = against[cand.site].length;
  // never: look for T_i > kink, minimise -T_i; always: look for T_i < kink, minimise T_i
  const c = new Float64Array(n);
  c[cand.index] = cand.dir === 'never' ? -1 : 1;
  const stop = cand.dir === 'never' ? -site.kink : site.kink;
  const f = linearObjective(g, c, site.tensor);
  const best = descend(g, box, f, startPoints(box, o.starts, o.seed + cand.index), o.steps, stop);
  if (best.value < stop) recordBatch(g, sites, w, [best.x]);
  return against[cand.site][cand.index] >= 0;
}
