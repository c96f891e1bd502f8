/**
 * A domain of several boxes (a VNN-LIB disjunction, e.g. ACAS Xu property 6: two ranges of one angle) sliced as one:
 * the partition covers their hull, cuts at the boxes' faces come first, each slice is pruned on the part of the
 * domain it holds (its box clipped to every region), and a slice that holds none serves no input.
 */
import { containsBox, containsPoint, splitBox, type Box } from '../model/box.ts';

/** The intersection of two boxes, or null when they share no point (closed boxes: a shared face counts). */
export function intersectBoxes(a: Box, b: Box): Box | null {
  const n = a.lo.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lo[i] = Math.max(a.lo[i], b.lo[i]);
    hi[i] = Math.min(a.hi[i], b.hi[i]);
    if (lo[i] > hi[i]) return null;
  }
  return { lo, hi };
}

/**
 * The part of the domain inside `box`: the box itself when one region holds it, else its intersections with the
 * regions (those of positive volume, or any if none has it), [] when it meets none. A slice is pruned on this.
 */
export function clipToRegions(box: Box, regions: Box[]): Box[] {
  if (regions.some((r) => containsBox(r, box))) return [box];
  const parts = regions.map((r) => intersectBoxes(box, r)).filter((b): b is Box => b !== null);
  const full = parts.filter((b) => b.lo.every((l, i) => b.hi[i] > l || box.hi[i] === box.lo[i]));
  return full.length ? full : parts;
}

/** What the dispatcher sends the slice of `box`: the parts of the regions in it, or the box (one-box domain). */
export function servedParts(box: Box, regions: Box[] | undefined): Box[] {
  return regions ? clipToRegions(box, regions) : [box];
}

export function inRegions(x: ArrayLike<number>, regions: Box[], tol = 0): boolean {
  return regions.some((r) => containsPoint(r, x, tol));
}

/**
 * A cut at a region's face, strictly inside `box`, for a box that lies neither inside one region nor outside all:
 * the one whose two sides are purest (a side inside one region or outside all counts its share of the box's
 * width), the first such face otherwise; null when no cut is needed.
 */
export function regionCut(box: Box, regions: Box[]): { dim: number; at: number } | null {
  if (regions.some((r) => containsBox(r, box))) return null;
  if (!regions.some((r) => intersectBoxes(box, r))) return null;
  const pure = (b: Box): boolean => regions.some((r) => containsBox(r, b)) || !regions.some((r) => intersectBoxes(b, r));
  let best: { dim: number; at: number; score: number } | null = null;
  for (const r of regions) {
    for (let i = 0; i < box.lo.length; i++) {
      for (const at of [r.lo[i], r.hi[i]]) {
        if (!(at > box.lo[i] && at < box.hi[i])) continue;
        const [left, right] = splitBox(box, i, at);
        const share = (at - box.lo[i]) / (box.hi[i] - box.lo[i]);
        const score = (pure(left) ? share : 0) + (pure(right) ? 1 - share : 0);
        if (!best || score > best.score) best = { dim: i, at, score };
      }
    }
  }
  return best && { dim: best.dim, at: best.at };
}
