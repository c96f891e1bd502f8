/** How the input-splitting searches (census, properties, equivalence) cut a box in two. */
import { splitBox, type Box } from '../../model/box.ts';

export type SplitRule = 'widest' | 'trial';

/**
 * More inputs than this and halving one input barely tightens a bound (MNIST: 784): the searches split ReLU phases
 * instead (relu-bab.ts), and the census skips its input-splitting tree.
 */
export const MANY_INPUTS = 8;
export function manyInputs(n: number): boolean {
  return n > MANY_INPUTS;
}

/** Input i's width in the box as a share of its width in the root box (0 where the root is flat). */
function relativeWidth(box: Box, root: Box, i: number): number {
  return root.hi[i] > root.lo[i] ? (box.hi[i] - box.lo[i]) / (root.hi[i] - root.lo[i]) : 0;
}

/** The input widest relative to the root box (the first of equals). */
export function widestInput(box: Box, root: Box): number {
  let widest = 0;
  for (let i = 1; i < box.lo.length; i++) if (relativeWidth(box, root, i) > relativeWidth(box, root, widest)) widest = i;
  return widest;
}

/**
 * Chooses the input coordinate to split. 'widest': the widest relative to the root box (cheap, never stalls).
 * 'trial': for few inputs, try every coordinate and keep the one whose worse half scores best; ties and
 * no-improvement cases fall back to the widest, so the search cannot stall on one coordinate.
 */
export function chooseSplit(
  box: Box,
  root: Box,
  score: (b: Box) => number,
  rule: SplitRule = 'widest',
): { dim: number; children: [Box, Box]; values: [number, number] } {
  const n = box.lo.length;
  const relWidth = (i: number): number => relativeWidth(box, root, i);
  const widest = widestInput(box, root);
  if (rule === 'trial' && n <= 8) {
    let best = -1;
    let bestVal = Infinity;
    let bestChildren: [Box, Box] | null = null;
    let bestValues: [number, number] = [0, 0];
    for (let i = 0; i < n; i++) {
      if (!(box.hi[i] > box.lo[i])) continue;
      const ch = splitBox(box, i);
      const vs: [number, number] = [score(ch[0]), score(ch[1])];
      const v = Math.max(vs[0], vs[1]) + 1e-3 * Math.min(vs[0], vs[1]);
      if (v < bestVal - 1e-12 * Math.abs(bestVal) || (v <= bestVal && relWidth(i) > relWidth(best))) {
        bestVal = v;
        best = i;
        bestChildren = ch;
        bestValues = vs;
      }
    }
    if (best >= 0 && bestChildren) return { dim: best, children: bestChildren, values: bestValues };
  }
  const children = splitBox(box, widest);
  return { dim: widest, children, values: [score(children[0]), score(children[1])] };
}
