/**
 * The memory bound of every search. A branch and bound keeps its open boxes (or nodes) until they are split or
 * closed; on a question it cannot settle they pile up until the time limit, and at thousands of boxes a second
 * that reached 3 GB. So each search keeps at most SEARCH_MEMORY_BYTES of them: the cap on open boxes is that budget
 * divided by the bytes one of them holds (estimated from the network's size, as below), and past it the search
 * stops with "unknown", reason MEMORY_LIMIT: nothing left open is ever taken as proved. Searches that run side by
 * side (the census's two halves, the finishing tasks on workers) each have the budget times their share, or their
 * own budget on their own thread.
 *
 * Work limits (maxBoxes, maxNodes options) are separate: they make a search stop at the same point on any machine,
 * with reason BOX_LIMIT.
 */
import type { Network } from '../../model/network.ts';
import type { NetworkBounds } from '../../bounds/types.ts';

/** What one search may keep open: 1 GiB. */
export const SEARCH_MEMORY_BYTES = 1 << 30;

export const MEMORY_LIMIT = 'memory limit';
export const BOX_LIMIT = 'box limit';

/**
 * A typed array's own cost besides its elements (view, ArrayBuffer, backing store), and an object in a heap with
 * its slots, generously: measured on ACAS Xu (7 layers, 305 neurons), an open box of the property search holds
 * 9.6-14.7 KB, and these make the estimate 11.5 KB.
 */
const ARRAY_OVERHEAD = 384;
const ITEM_OVERHEAD = 256;

/** Bytes of a box of n inputs (two Float64Arrays). */
export function boxBytes(n: number): number {
  return 16 * n + 2 * ARRAY_OVERHEAD + ITEM_OVERHEAD;
}

/** Bytes of one set of pre-activation bounds of the network (two Float64Arrays per layer). */
export function boundsBytes(net: Network): number {
  let b = 0;
  for (const L of net.layers) b += 16 * L.outSize + 2 * ARRAY_OVERHEAD;
  return b;
}

/**
 * Bounds as an open box keeps them: the same layers in a new list. The bound computations cache what they derive
 * from a bounds list (live neurons' weights, output functions) in WeakMaps keyed by that list; kept with an open
 * box, those caches made it hold 30-100 KB on ACAS Xu instead of 7 KB. A new list leaves them to the collector
 * (what needs them again rebuilds them).
 */
export function heldBounds(b: NetworkBounds): NetworkBounds {
  return b.slice();
}

/** The most open items of `bytesPerItem` each that `budget` allows (at least 1). */
export function openCap(bytesPerItem: number, budget = SEARCH_MEMORY_BYTES): number {
  return Math.max(1, Math.floor(budget / Math.max(1, bytesPerItem)));
}
