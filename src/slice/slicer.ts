/**
 * Slicing: partition the domain (uniform or adaptive), prune every slice with its own proof, and check the family
 * through the dispatcher by sampling (random points and points on every cut). Slices are independent jobs.
 */
import { fail } from '../errors.ts';
import { forward, sizeMetrics, type Network } from '../model/network.ts';
import { boxHull, samplePoints, splitBox, type Box } from '../model/box.ts';
import { mulberry32 } from '../model/rng.ts';
import type { BoundsFn } from '../verify/equiv/equiv.ts';
import { classChanged, type Tolerance } from '../verify/tolerance.ts';
import type { CertifiedPrune } from '../simplify/certify.ts';
import { runPool, type JobRunner } from '../pool/pool.ts';
import type { SliceJob } from './jobs.ts';
import { adaptivePartition, uniformPartition, type Partition, type SplitTree } from './partition.ts';
import { makeSplitChooser } from './choose-split.ts';
import { locate } from './dispatch.ts';
import { clipToRegions, inRegions, regionCut, servedParts } from './regions.ts';

export interface SliceOptions {
  strategy: 'uniform' | 'adaptive';
  levels?: number;
  maxSlices?: number;
  maxDepth?: number;
  tolerance: Tolerance;
  /** bounds used to choose adaptive splits */
  boundsFn: BoundsFn;
  /** bounds the per-slice verifier uses (by name: a job must be plain data) */
  bounds: SliceJob['bounds'];
  queryTimeoutMs: number;
  toleranceBudgetMs?: number;
  finalTimeoutMs: number;
  finalSamples: number;
  /** per slice: at most this many MILP queries in the census (default 16) */
  finishTasks?: number;
  /** a work limit (boxes bounded) of every search of every slice: the family then does not depend on the pace */
  maxBoxes?: number;
  /** worker threads (1 = in this thread), or a runner (another machine's, src/queue); the family does not depend on it */
  workers?: number | JobRunner;
  onProgress?: (done: number, total: number, meanRelu: number) => void;
}

export interface SliceRun {
  partition: Partition;
  slices: CertifiedPrune[];
  familyCheck: { points: number; boundaryPoints: number; maxAbsDiff: number; classDisagreements: number };
  timeMs: number;
}

export const UNIFORM_MAX_SLICES = 1 << 16;

/**
 * The partition of a domain of one or more boxes. Several boxes: the partition covers their hull, and the adaptive
 * strategy cuts at their faces before anything else (those cuts come first in its queue).
 */
export function makePartition(f: Network, domain: Box[], opts: SliceOptions): Partition {
  const d = f.inputSize;
  const root = domain.length === 1 ? domain[0] : boxHull(domain);
  const regions = domain.length === 1 ? undefined : domain;
  if (opts.strategy === 'uniform') {
    const levels = opts.levels ?? 1;
    if (d * levels > 16) {
      fail(`uniform slicing is impractical here: ${levels} level(s) over ${d} inputs means 2^${d * levels} slices; use --strategy adaptive, which splits only the coordinates that matter`);
    }
    return { ...uniformPartition(root, levels), regions };
  }
  const maxSlices = opts.maxSlices ?? (opts.levels ? 2 ** (d * opts.levels) : 32);
  const byBounds = makeSplitChooser(f, opts.boundsFn, { root });
  const choose = regions
    ? (box: Box) => {
        const cut = regionCut(box, regions);
        if (cut) return { ...cut, gain: REGION_CUT_GAIN };
        return clipToRegions(box, regions).length ? byBounds(box) : null;
      }
    : byBounds;
  return { ...adaptivePartition(root, { maxLeaves: maxSlices, maxDepth: opts.maxDepth ?? 40, choose }), regions };
}

/** above any gain in unstable neurons (at most the network's size): region cuts are made first */
const REGION_CUT_GAIN = 1e12;

/** What slice i is pruned on: its box, or with several regions the parts of them it holds (its box if none). */
export function sliceDomain(p: Partition, i: number): Box[] {
  const parts = servedParts(p.boxes[i], p.regions);
  return parts.length ? parts : [p.boxes[i]];
}

export async function sliceNetwork(f: Network, domain: Box[], opts: SliceOptions): Promise<SliceRun> {
  const t0 = Date.now();
  const partition = makePartition(f, domain, opts);
  let reluSum = 0;
  let done = 0;
  const jobs: SliceJob[] = partition.boxes.map((_box, i) => ({
    f,
    domain: sliceDomain(partition, i),
    tolerance: opts.tolerance,
    bounds: opts.bounds,
    queryTimeoutMs: opts.queryTimeoutMs,
    toleranceBudgetMs: opts.toleranceBudgetMs,
    finalTimeoutMs: opts.finalTimeoutMs,
    finalSamples: opts.finalSamples,
    seed: 1 + i,
    finishTasks: opts.finishTasks,
    ...(opts.maxBoxes !== undefined ? { maxBoxes: opts.maxBoxes } : {}),
  }));
  const slices = await runPool<SliceJob, CertifiedPrune>(new URL('./jobs.ts', import.meta.url).href, 'pruneSliceJob', jobs, opts.workers ?? 1, (_i, r) => {
    reluSum += sizeMetrics(r.written).reluNeurons;
    done++;
    opts.onProgress?.(done, partition.boxes.length, reluSum / done);
  });
  const familyCheck = checkFamily(f, partition, slices.map((s) => s.written), opts.tolerance, slices.map((s) => s.exactEps));
  const worstAllowed = opts.tolerance.kind === 'linf' ? opts.tolerance.epsilon : Math.max(...slices.map((s) => s.exactEps));
  if (opts.tolerance.kind !== 'class' && familyCheck.maxAbsDiff > worstAllowed) {
    fail(`family check failed: the dispatcher's answer differs from the original by ${familyCheck.maxAbsDiff}; no family written`);
  }
  if (opts.tolerance.kind === 'class' && familyCheck.classDisagreements > 0) {
    fail(`family check failed: ${familyCheck.classDisagreements} sampled points change class; no family written`);
  }
  return { partition, slices, familyCheck, timeMs: Date.now() - t0 };
}

/** Points on every cut of the split tree (inside that node's box), plus random points; all through the dispatcher. */
export function checkFamily(
  f: Network,
  p: Partition,
  nets: Network[],
  tol: Tolerance,
  _eps: number[],
  count = 20000,
  seed = 777,
): SliceRun['familyCheck'] {
  const rng = mulberry32(seed);
  const n = f.inputSize;
  const pts: Float64Array[] = [];
  const regions = p.regions ?? [p.root];
  regions.forEach((r, ri) => {
    // an even share of the points in every region
    const c = Math.floor(count / regions.length) + (ri < count % regions.length ? 1 : 0);
    const rand = samplePoints(r, c, rng);
    for (let s = 0; s < c; s++) pts.push(rand.subarray(s * n, (s + 1) * n));
  });
  let boundary = 0;
  const walk = (t: SplitTree, box: Box): void => {
    if ('leaf' in t) return;
    const k = 4;
    const xs = samplePoints(box, k, rng);
    for (let s = 0; s < k; s++) {
      const x = xs.slice(s * n, (s + 1) * n);
      x[t.dim] = t.at;
      if (p.regions && !inRegions(x, p.regions)) continue;
      pts.push(x);
      boundary++;
    }
    const [left, right] = splitBox(box, t.dim, t.at);
    walk(t.left, left);
    walk(t.right, right);
  };
  walk(p.tree, p.root);
  let maxAbs = 0;
  let disagree = 0;
  for (const x of pts) {
    const i = locate(p.tree, p.root, x, 0, p.regions);
    const a = forward(f, x);
    const b = forward(nets[i], x);
    for (let j = 0; j < a.length; j++) maxAbs = Math.max(maxAbs, Math.abs(a[j] - b[j]));
    if (tol.kind === 'class' && classChanged(a, b, tol.order, tol.margin)) disagree++;
  }
  return { points: pts.length, boundaryPoints: boundary, maxAbsDiff: maxAbs, classDisagreements: disagree };
}
