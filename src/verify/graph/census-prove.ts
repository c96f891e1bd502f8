/**
 * The census's proofs: per box, one CROWN pass bounds every site; an element is proved never (always) active on a
 * box when its upper (lower) bound is at most (at least) the kink. For the elements still open, one at a time in
 * order of promise: the CROWN row of the one element (with the intermediate bounds tightened so far) and its
 * minimising corner, evaluated as a witness candidate, then optimised slopes (alpha). Every bound found tightens
 * the box's bounds of that element, which later rows through it use. Proved means on EVERY box; witnesses count
 * from any box.
 */
import type { Graph } from '../../model/graph/types.ts';
import type { Box } from '../../model/box.ts';
import type { TensorBounds } from '../../bounds/graph/types.ts';
import { graphCrownBounds } from '../../bounds/graph/crown.ts';
import { graphObjectiveBound } from '../../bounds/graph/objective.ts';
import { lowerRows, newRecord } from '../../bounds/graph/backward.ts';
import { recordBatch, type Site, type Witnesses } from './census-sites.ts';

export type Direction = 'never' | 'always';

export interface BoxBounds {
  readonly box: Box;
  readonly bounds: TensorBounds;
}

/** One CROWN pass on the box, with the sites' bounds copied so that tightening them in place touches nothing else. */
export function boxBounds(g: Graph, box: Box, sites: readonly Site[], deadline?: number): BoxBounds {
  const bounds = graphCrownBounds(g, box, { deadline });
  for (const t of new Set(sites.map((s) => s.tensor))) {
    const b = bounds.get(t)!;
    bounds.set(t, { lo: Float64Array.from(b.lo), hi: Float64Array.from(b.hi), mag: b.mag });
  }
  return { box, bounds };
}

/** Is the direction proved on this box's bounds? */
export function provedOn(bb: BoxBounds, site: Site, i: number, dir: Direction): boolean {
  const b = bb.bounds.get(site.tensor)!;
  return dir === 'never' ? b.hi[i] <= site.kink : b.lo[i] >= site.kink;
}

export const provedAll = (bbs: readonly BoxBounds[], site: Site, i: number, dir: Direction): boolean => bbs.every((bb) => provedOn(bb, site, i, dir));

/** How far from proved (0 = at the kink, 1 = the whole interval on the wrong side), the worst box. */
export function distance(bbs: readonly BoxBounds[], site: Site, i: number, dir: Direction): number {
  let worst = 0;
  for (const bb of bbs) {
    const { lo, hi } = bb.bounds.get(site.tensor)!;
    const w = hi[i] - lo[i];
    const off = dir === 'never' ? hi[i] - site.kink : site.kink - lo[i];
    if (off > 0) worst = Math.max(worst, w > 0 ? off / w : 1);
  }
  return worst;
}

export interface Candidate {
  readonly site: number;
  readonly index: number;
  readonly dir: Direction;
  readonly distance: number;
}

/** The directions still worth proving: no witness against them, not proved yet; the most promising first. */
export function candidates(sites: readonly Site[], w: Witnesses, bbs: readonly BoxBounds[]): Candidate[] {
  const out: Candidate[] = [];
  sites.forEach((site, s) => {
    for (let i = 0; i < w.above[s].length; i++) {
      const never = w.above[s][i] < 0;
      const always = w.below[s][i] < 0;
      if ((never && provedAll(bbs, site, i, 'never')) || (always && provedAll(bbs, site, i, 'always'))) continue;
      if (never) out.push({ site: s, index: i, dir: 'never', distance: distance(bbs, site, i, 'never') });
      if (always) out.push({ site: s, index: i, dir: 'always', distance: distance(bbs, site, i, 'always') });
    }
  });
  // deterministic: by distance, then by position in the graph
  return out.sort((a, b) => a.distance - b.distance || a.site - b.site || a.index - b.index);
}

/** c . T >= rhs is the claim: -e_i . T >= -kink (never above the kink) or e_i . T >= kink. */
function claimRow(site: Site, n: number, i: number, dir: Direction): { c: Float64Array; rhs: number } {
  const c = new Float64Array(n);
  c[i] = dir === 'never' ? -1 : 1;
  return { c, rhs: dir === 'never' ? -site.kink : site.kink };
}

/** Records a proved lower bound of the claim's row as the element's bound on this box. */
function tightenWith(bb: BoxBounds, site: Site, i: number, dir: Direction, low: number): void {
  const b = bb.bounds.get(site.tensor)!;
  if (dir === 'never') b.hi[i] = Math.min(b.hi[i], -low);
  else b.lo[i] = Math.max(b.lo[i], low);
}

export type Attempt = 'proved' | 'witnessed' | 'open';

const against = (w: Witnesses, c: Candidate): boolean => (c.dir === 'never' ? w.above : w.below)[c.site][c.index] >= 0;

/**
 * Each claim's own CROWN row on every box that does not prove it yet (with the bounds tightened so far), then the
 * rows' minimising corners as witness candidates, evaluated in one batch: a corner may witness the other side of
 * its claim's element and of others.
 */
export function cornerClaims(g: Graph, sites: readonly Site[], w: Witnesses, bbs: readonly BoxBounds[], cands: readonly Candidate[]): Attempt[] {
  const corners: Float64Array[] = [];
  for (const cand of cands) {
    const site = sites[cand.site];
    const { c, rhs } = claimRow(site, w.above[cand.site].length, cand.index, cand.dir);
    for (const bb of bbs) {
      if (provedOn(bb, site, cand.index, cand.dir)) continue;
      const rec = newRecord();
      const low = lowerRows(g, bb.bounds, site.tensor, c, 1, undefined, rec)[0];
      tightenWith(bb, site, cand.index, cand.dir, low);
      if (low < rhs && rec.xStar) corners.push(rec.xStar);
    }
  }
  recordBatch(g, sites, w, corners);
  return cands.map((c) => (against(w, c) ? 'witnessed' : provedAll(bbs, sites[c.site], c.index, c.dir) ? 'proved' : 'open'));
}

/** Optimised slopes for the candidate's row on one box. */
export function alphaOnBox(g: Graph, sites: readonly Site[], w: Witnesses, bb: BoxBounds, cand: Candidate): Attempt {
  const site = sites[cand.site];
  const { c, rhs } = claimRow(site, w.above[cand.site].length, cand.index, cand.dir);
  const best = graphObjectiveBound(g, bb.box, { node: site.tensor, coeffs: c }, { bounds: bb.bounds, alpha: true });
  tightenWith(bb, site, cand.index, cand.dir, best);
  return best >= rhs ? 'proved' : 'open';
}
