/**
 * A VNN-LIB property decided on a slice family, the function its dispatcher computes (what ships), not on the
 * original: every slice on the part of the property's input region it serves, side by side on worker threads, each
 * with its own time limit. The slices are smaller than the original, so their searches are cheaper. A slice's
 * counterexample counts only once the dispatcher, given that input, sends it to a slice that violates the property
 * (a point on a cut belongs to one side only); a property whose inputs reach outside the family's domain cannot be
 * unsat.
 */
import { forward, sizeMetrics, type Network } from '../model/network.ts';
import { containsBox, type Box } from '../model/box.ts';
import { isCounterexample, type VnnProperty } from '../formats/vnnlib.ts';
import type { PropertyResult } from '../verify/property/property.ts';
import { runPool } from '../pool/pool.ts';
import { leafBoxes, type SplitTree } from './partition.ts';
import { locate } from './dispatch.ts';
import { intersectBoxes, servedParts } from './regions.ts';
import type { VerifySliceJob } from './jobs.ts';

export interface FamilyToVerify {
  root: Box;
  regions?: Box[];
  tree: SplitTree;
  count: number;
  net(i: number): Network;
}

export interface FamilyPropertyResult extends PropertyResult {
  /** per slice that serves part of the property's inputs: its verdict */
  perSlice: Array<{ slice: number; result: PropertyResult['result']; boxes: number; timeMs: number; reason?: string }>;
  /** some of the property's inputs lie outside the family's domain (no slice serves them) */
  uncovered: boolean;
}

export async function verifyFamily(fam: FamilyToVerify, prop: VnnProperty, timeoutMs: number, workers: number, onSlice?: (done: number, total: number) => void): Promise<FamilyPropertyResult> {
  const t0 = Date.now();
  const boxes = leafBoxes(fam.tree, fam.root, fam.count);
  // is every input of the property served? (each leaf's share of a region must lie in the family's domain)
  const uncovered = prop.regions.some((r) => {
    if (!containsBox(fam.root, r.box)) return true;
    if (!fam.regions) return false;
    return boxes.some((b) => {
      const x = intersectBoxes(b, r.box);
      return x !== null && !fam.regions!.some((g) => containsBox(g, x));
    });
  });
  const jobs: VerifySliceJob[] = [];
  const sliceOf: number[] = [];
  boxes.forEach((b, i) => {
    const regions = servedParts(b, fam.regions).flatMap((part) =>
      prop.regions.flatMap((r) => {
        const x = intersectBoxes(part, r.box);
        return x ? [{ box: x, unsafe: r.unsafe }] : [];
      }),
    );
    if (!regions.length) return;
    jobs.push({ net: fam.net(i), prop: { ...prop, regions }, timeoutMs });
    sliceOf.push(i);
  });
  // the largest slices first: the family's time is its hardest slice's, so that one should not start last
  const size = (net: Network): number => sizeMetrics(net).reluNeurons;
  const order = jobs.map((_, k) => k).sort((a, b) => size(jobs[b].net) - size(jobs[a].net) || a - b);
  const sorted = order.map((k) => jobs[k]);
  let done = 0;
  const inOrder = await runPool<VerifySliceJob, PropertyResult>(new URL('./jobs.ts', import.meta.url).href, 'verifySliceJob', sorted, workers, () => {
    done++;
    onSlice?.(done, jobs.length);
  });
  const results: PropertyResult[] = new Array(jobs.length);
  order.forEach((k, i) => (results[k] = inOrder[i]));
  const perSlice = results.map((r, k) => ({ slice: sliceOf[k], result: r.result, boxes: r.boxes, timeMs: r.timeMs, ...(r.reason ? { reason: r.reason } : {}) }));
  const total = results.reduce((s, r) => s + r.boxes, 0);
  const end = (r: Omit<PropertyResult, 'boxes' | 'timeMs'>): FamilyPropertyResult => ({ ...r, boxes: total, timeMs: Date.now() - t0, perSlice, uncovered });
  // a counterexample of the family: the dispatcher's slice, evaluated on the input, violates the property
  for (const r of results) {
    if (r.result !== 'sat' || !r.counterexample) continue;
    const x = Float64Array.from(r.counterexample.x);
    const y = forward(fam.net(locate(fam.tree, fam.root, x, 0, fam.regions)), x);
    if (isCounterexample(prop, x, y)) return end({ result: 'sat', counterexample: { x: Array.from(x), y: Array.from(y) } });
  }
  if (uncovered) return end({ result: 'unknown', reason: "part of the property's inputs lies outside the family's domain" });
  if (results.every((r) => r.result === 'unsat')) return end({ result: 'unsat' });
  const open = results.filter((r) => r.result !== 'unsat');
  const reasons = [...new Set(open.map((r) => r.reason ?? 'a slice counterexample not confirmed through the dispatcher'))];
  // (all open by their time limits: 'timeout', as the VNN-COMP result format has it)
  return end({ result: 'unknown', reason: reasons.length === 1 && reasons[0] === 'timeout' ? 'timeout' : `${open.length} of ${results.length} slices open (${reasons.join('; ')})` });
}
