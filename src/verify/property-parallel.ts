/**
 * One VNN-LIB property on several worker threads: a short search on the whole property first (it settles the easy
 * ones before workers could start), then every region is cut in two (the input whose halves CROWN finds easier,
 * tried on every input) and the two half-properties are decided as independent queries, each with half the time
 * left. The halves are the same whatever the number of workers, so the verdict is too; one worker decides them one
 * after the other within the same total limit. With many inputs halving one input tightens nothing, so the
 * property stays one query.
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { VnnProperty, VnnRegion } from '../formats/vnnlib.ts';
import { crownBounds } from '../bounds/backward.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { WorkerPool } from '../pool/pool.ts';
import { decideProperty, type PropertyResult } from './property.ts';
import { chooseSplit, manyInputs } from './split.ts';

/** The short search on the whole property first: this share of the time limit, at most this long. */
const QUICK_SHARE = 0.05;
const QUICK_MAX_MS = 1000;

export interface HalfJob {
  net: Network;
  prop: VnnProperty;
  timeoutMs: number;
  /** the short first search: no deeper falsification round (its 100,000 samples alone take longer than it has) */
  quick?: boolean;
}

type Progress = (phase: string, boxes: number, open: number, leftMs: number) => void;

/** Worker entry: one half-property with the verifier's default bounds. */
export function decideHalfJob(job: HalfJob, onProgress?: Progress): PropertyResult {
  return decideProperty(job.net, job.prop, { boundsFn: crownBounds, outputLinearLower, timeoutMs: job.timeoutMs, onProgress, deepFalsify: !job.quick });
}

/**
 * How far the region's box is from closed under CROWN: the largest, over its conjunctions, of how much the
 * conjunction's best constraint falls short of being provably violated (0 when every conjunction is closed).
 */
function openness(net: Network, box: Box, unsafe: VnnRegion['unsafe']): number {
  const fb = crownBounds(net, box);
  let worst = 0;
  for (const conj of unsafe) {
    let best = -Infinity;
    for (const c of conj) best = Math.max(best, outputLinearLower(net, box, fb, c.coeffs) - c.rhs);
    worst = Math.max(worst, -best);
  }
  return worst;
}

/** The property as two halves: each region cut at the input whose worse half is least open. */
export function halveProperty(net: Network, prop: VnnProperty): [VnnProperty, VnnProperty] {
  const a: VnnRegion[] = [];
  const b: VnnRegion[] = [];
  for (const r of prop.regions) {
    const { children } = chooseSplit(r.box, r.box, (box) => openness(net, box, r.unsafe), 'trial');
    a.push({ box: children[0], unsafe: r.unsafe });
    b.push({ box: children[1], unsafe: r.unsafe });
  }
  return [
    { ...prop, regions: a },
    { ...prop, regions: b },
  ];
}

/**
 * Decides the property as two halves on `workers` threads: sat when either half is (its counterexample, re-checked
 * there, lies in a region of the whole), unsat when both are, else unknown ('timeout' when a half ran out of time).
 * One worker stops after a sat first half.
 */
export async function decidePropertyParallel(
  net: Network,
  prop: VnnProperty,
  timeoutMs: number,
  workers: number,
  onProgress?: Progress,
  /** the short first search's limit (default 5% of the limit, at most 1 s; 0: none) */
  quickMs = Math.min(QUICK_MAX_MS, QUICK_SHARE * timeoutMs),
): Promise<PropertyResult> {
  const t0 = Date.now();
  if (manyInputs(net.inputSize)) return decideHalfJob({ net, prop, timeoutMs }, onProgress);
  // the workers start now, while a short search on the whole decides the easy properties (most VNN-COMP ACAS Xu
  // instances take under a second, less than two workers take to start)
  const pool = workers > 1 ? new WorkerPool(2) : undefined;
  let done = 0;
  const tick = setInterval(() => onProgress?.(`two halves on 2 threads, ${done} done`, 0, 0, t0 + timeoutMs - Date.now()), 200);
  try {
    const quick: PropertyResult = quickMs > 0 ? decideHalfJob({ net, prop, timeoutMs: quickMs, quick: true }, onProgress) : { result: 'unknown', boxes: 0, timeMs: 0 };
    if (quick.result !== 'unknown') return { ...quick, timeMs: Date.now() - t0 };
    const halfMs = Math.max(0, timeoutMs - (Date.now() - t0)) / 2;
    const jobs = halveProperty(net, prop).map((p) => ({ net, prop: p, timeoutMs: halfMs }));
    let rs: PropertyResult[] = [];
    if (!pool) {
      for (const [h, job] of jobs.entries()) {
        rs.push(decideHalfJob(job, onProgress && ((phase, boxes, open, leftMs) => onProgress(`half ${h + 1} of 2, ${phase}`, boxes, open, leftMs))));
        if (rs[rs.length - 1].result === 'sat') break;
      }
    } else {
      rs = await pool.run<HalfJob, PropertyResult>(import.meta.url, 'decideHalfJob', jobs, () => done++);
    }
    return combine([quick, ...rs], Date.now() - t0);
  } finally {
    clearInterval(tick);
    await pool?.close();
  }
}

/** The quick search's result (unknown), then the halves': sat if either is, unsat if both are. */
function combine([quick, ...halves]: PropertyResult[], timeMs: number): PropertyResult {
  const boxes = quick.boxes + halves.reduce((s, r) => s + r.boxes, 0);
  const sat = halves.find((r) => r.result === 'sat');
  if (sat) return { ...sat, boxes, timeMs };
  if (halves.every((r) => r.result === 'unsat')) return { result: 'unsat', boxes, timeMs };
  return { result: 'unknown', boxes, timeMs, reason: halves.find((r) => r.result === 'unknown')!.reason };
}
