/**
 * The adaptive slicer's split rule: split the coordinate whose midpoint cut stabilises the most ReLU neurons
 * according to cheap sound bounds on the two halves. With many inputs only the coordinates that can matter most
 * (width times the size of their first-layer weights) are tried.
 */
import type { Network } from '../model/network.ts';
import { splitBox, type Box } from '../model/box.ts';
import type { NetworkBounds } from '../bounds/types.ts';
import type { BoundsFn } from '../verify/equiv/equiv.ts';

export function unstableCount(net: Network, b: NetworkBounds): number {
  let c = 0;
  for (let k = 0; k < net.layers.length - 1; k++) {
    const L = net.layers[k];
    for (let i = 0; i < L.outSize; i++) if (L.relu[i] && b[k].lo[i] < 0 && b[k].hi[i] > 0) c++;
  }
  return c;
}

export interface SplitChoice {
  dim: number;
  at: number;
  /** unstable neurons removed by the split (parent minus the mean of the halves): higher is better */
  gain: number;
  /** no cut of the box removed any: this one halves its widest input */
  blind?: boolean;
  unstableLeft: number;
  unstableRight: number;
}

export function makeSplitChooser(
  net: Network,
  boundsFn: BoundsFn,
  opts: { maxTrials?: number; root?: Box } = {},
): (box: Box) => SplitChoice | null {
  const n = net.inputSize;
  const colMag = new Float64Array(n);
  const L0 = net.layers[0];
  for (let i = 0; i < L0.outSize; i++) for (let j = 0; j < n; j++) colMag[j] += Math.abs(L0.weights[i * n + j]);
  const maxTrials = opts.maxTrials ?? 8;
  return (box: Box): SplitChoice | null => {
    const pb = boundsFn(net, box);
    const parent = unstableCount(net, pb);
    if (parent === 0) return null;
    const dims = [...Array(n).keys()]
      .filter((i) => box.hi[i] > box.lo[i])
      .sort((a, b) => (box.hi[b] - box.lo[b]) * colMag[b] - (box.hi[a] - box.lo[a]) * colMag[a] || a - b)
      .slice(0, maxTrials);
    let best: SplitChoice | null = null;
    for (const d of dims) {
      const [l, r] = splitBox(box, d);
      // the halves start from the box's bounds: sound on sub-boxes, tighter, and cheaper
      const ul = unstableCount(net, boundsFn(net, l, pb));
      const ur = unstableCount(net, boundsFn(net, r, pb));
      const gain = parent - (ul + ur) / 2;
      if (!best || gain > best.gain) {
        best = { dim: d, at: 0.5 * (box.lo[d] + box.hi[d]), gain, unstableLeft: ul, unstableRight: ur };
      }
    }
    if (best && best.gain <= 0 && opts.root) {
      // no single cut helps yet: halve the widest coordinate (relative to the root); a tiny gain that prefers
      // large boxes keeps real gains first in the queue
      const root = opts.root;
      let d = dims[0];
      let vol = 1;
      for (let i = 0; i < n; i++) {
        const w = root.hi[i] > root.lo[i] ? (box.hi[i] - box.lo[i]) / (root.hi[i] - root.lo[i]) : 0;
        if (root.hi[i] > root.lo[i]) vol *= w;
        const wd = root.hi[d] > root.lo[d] ? (box.hi[d] - box.lo[d]) / (root.hi[d] - root.lo[d]) : 0;
        if (w > wd) d = i;
      }
      return { dim: d, at: 0.5 * (box.lo[d] + box.hi[d]), gain: 1e-6 * vol, unstableLeft: parent, unstableRight: parent, blind: true };
    }
    return best;
  };
}
