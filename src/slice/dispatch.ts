/** The dispatcher: which slice serves an input. A point on a shared face goes left; both slices are valid there. */
import { fail } from '../errors.ts';
import type { Box } from '../model/box.ts';
import type { SplitTree } from './partition.ts';
import { inRegions } from './regions.ts';

/** With `regions` (a domain of several boxes, root their hull), an input in none of them is refused too. */
export function locate(tree: SplitTree, root: Box, x: ArrayLike<number>, tol = 0, regions?: Box[]): number {
  if (x.length !== root.lo.length) fail(`input has ${x.length} values but the family takes ${root.lo.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) fail(`input value ${i + 1} is not a finite number`);
    if (x[i] < root.lo[i] - tol || x[i] > root.hi[i] + tol) {
      fail(`input value ${i + 1} (${x[i]}) lies outside the family's domain [${root.lo[i]}, ${root.hi[i]}]`);
    }
  }
  if (regions && !inRegions(x, regions, tol)) {
    fail(`input (${Array.from(x).join(', ')}) lies in none of the family's ${regions.length} domain boxes`);
  }
  let t = tree;
  while (!('leaf' in t)) t = x[t.dim] <= t.at ? t.left : t.right;
  return t.leaf;
}
