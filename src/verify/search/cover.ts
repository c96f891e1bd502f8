/**
 * A domain of many boxes as a bounded number of boxes for the searches. A VNN-LIB disjunction can list 100,000
 * input boxes; a census, an equivalence check or class margins that sample, bound and split every one of them runs
 * on without end. Past MAX_DOMAIN_BOXES the boxes are grouped (nearby ones together: halving the group at the
 * median of the centres along its widest input) and each group replaced by its hull. A claim proved on every hull
 * holds on every box inside it, so proofs on the cover are sound for the domain; they may be weaker (the hulls hold
 * points outside the domain, where a claim may fail), so a search on the cover may remove less, never more. What is
 * FOUND must be in the domain itself: samples are drawn from the member boxes, and a point a search finds on a hull
 * is a witness only when `contains` says it lies in some box of the domain.
 */
import { boxHull, type Box } from '../../model/box.ts';

/** At most this many boxes go to a search; more are grouped into this many hulls. */
export const MAX_DOMAIN_BOXES = 256;

export interface DomainCover {
  /** what the searches work on: the domain's own boxes when they are few, else the hulls of groups of them */
  boxes: Box[];
  /** true when `boxes` are hulls (a point of one may then lie outside the domain) */
  merged: boolean;
  /** per cover box: the domain's boxes inside it (itself alone when not merged) */
  members: Box[][];
  /** whether x lies in the domain (in some box of it) */
  contains(x: ArrayLike<number>): boolean;
}

const covers = new WeakMap<Box[], DomainCover>();

/** The domain's cover (the same object for the same domain array: the census and the checks share it). */
export function coverDomain(domain: Box[], max = MAX_DOMAIN_BOXES): DomainCover {
  const known = max === MAX_DOMAIN_BOXES ? covers.get(domain) : undefined;
  if (known) return known;
  const cover = domain.length <= max ? ownBoxes(domain) : grouped(domain, max);
  if (max === MAX_DOMAIN_BOXES) covers.set(domain, cover);
  return cover;
}

function ownBoxes(domain: Box[]): DomainCover {
  // every point of a search's box is in the domain
  return { boxes: domain, merged: false, members: domain.map((b) => [b]), contains: () => true };
}

function grouped(domain: Box[], max: number): DomainCover {
  const groups: number[][] = [];
  split(domain, Array.from(domain.keys()), max, groups);
  const members = groups.map((g) => g.map((i) => domain[i]));
  const boxes = members.map((m) => boxHull(m));
  return { boxes, merged: true, members, contains: membership(domain) };
}

/**
 * Whether a point lies in some box: the boxes sorted by their lower end along one input (the one where boxes are
 * narrowest next to the domain's extent), and only those whose range there can hold the point's coordinate are
 * looked at (those with lo in [x - widest box, x]).
 */
function membership(domain: Box[]): (x: ArrayLike<number>) => boolean {
  const n = domain[0].lo.length;
  const hull = boxHull(domain);
  const widest = new Float64Array(n);
  for (const b of domain) for (let t = 0; t < n; t++) widest[t] = Math.max(widest[t], b.hi[t] - b.lo[t]);
  let d = 0;
  const selectivity = (t: number): number => (hull.hi[t] - hull.lo[t]) / (widest[t] || Number.MIN_VALUE);
  for (let t = 1; t < n; t++) if (selectivity(t) > selectivity(d)) d = t;
  const key = Float64Array.from(domain, (b) => b.lo[d]);
  const order = Array.from(domain.keys()).sort((a, b) => key[a] - key[b]);
  const los = Float64Array.from(order, (i) => key[i]);
  // every box's corners in that order, side by side (a scan then reads memory in sequence)
  const flat = new Float64Array(order.length * 2 * n);
  order.forEach((i, r) => {
    flat.set(domain[i].lo, 2 * n * r);
    flat.set(domain[i].hi, 2 * n * r + n);
  });
  const inside = (r: number, x: ArrayLike<number>): boolean => {
    const o = 2 * n * r;
    for (let t = 0; t < n; t++) if (x[t] < flat[o + t] || x[t] > flat[o + n + t]) return false;
    return true;
  };
  return (x) => {
    // the first box whose lower end is at least x_d - widest_d
    let a = 0;
    let z = los.length;
    const from = x[d] - widest[d];
    while (a < z) {
      const mid = (a + z) >> 1;
      if (los[mid] < from) a = mid + 1;
      else z = mid;
    }
    for (let r = a; r < los.length && los[r] <= x[d]; r++) if (inside(r, x)) return true;
    return false;
  };
}

/** Cuts the listed boxes into `parts` groups of nearly equal size, at the median centre along the widest input. */
function split(domain: Box[], idx: number[], parts: number, out: number[][]): void {
  if (parts <= 1 || idx.length <= 1) {
    out.push(idx);
    return;
  }
  const n = domain[0].lo.length;
  const lo = new Float64Array(n).fill(Infinity);
  const hi = new Float64Array(n).fill(-Infinity);
  for (const i of idx) {
    for (let t = 0; t < n; t++) {
      if (domain[i].lo[t] < lo[t]) lo[t] = domain[i].lo[t];
      if (domain[i].hi[t] > hi[t]) hi[t] = domain[i].hi[t];
    }
  }
  let dim = 0;
  for (let t = 1; t < n; t++) if (hi[t] - lo[t] > hi[dim] - lo[dim]) dim = t;
  const key = new Float64Array(idx.length);
  idx.forEach((i, p) => (key[p] = domain[i].lo[dim] + domain[i].hi[dim]));
  const pos = Array.from(idx.keys()).sort((a, b) => key[a] - key[b] || idx[a] - idx[b]);
  const sorted = pos.map((p) => idx[p]);
  const leftParts = Math.floor(parts / 2);
  const cut = Math.round((sorted.length * leftParts) / parts);
  split(domain, sorted.slice(0, cut), leftParts, out);
  split(domain, sorted.slice(cut), parts - leftParts, out);
}

/** `count` points of the domain inside cover box g (batch x n): dealt out over its member boxes in turn. */
export function sampleCoverBox(cover: DomainCover, g: number, count: number, rng: () => number): Float64Array {
  const ms = cover.members[g];
  const n = ms[0].lo.length;
  const out = new Float64Array(count * n);
  for (let s = 0; s < count; s++) {
    const b = ms[s % ms.length];
    for (let i = 0; i < n; i++) out[s * n + i] = b.lo[i] + (b.hi[i] - b.lo[i]) * rng();
  }
  return out;
}
