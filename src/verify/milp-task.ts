/**
 * One MILP query of the phase census as plain data, so the census can hand its open candidates to the worker pool:
 * prove sign * z_{layer,index} <= 0 on every given box (big-M from CROWN bounds of that box). Each task has its own
 * time limit, so verdicts do not depend on how many workers share the tasks.
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import { crownBounds } from '../bounds/backward.ts';
import type { NetworkBounds } from '../bounds/types.ts';
import { loadMilpSolver, milpNeuronSign } from './milp.ts';

export interface MilpTask {
  net: Network;
  boxes: Box[];
  layer: number;
  index: number;
  /** -1: prove never active (z <= 0); +1: prove always active (z >= 0) */
  sign: 1 | -1;
  timeMs: number;
  /** sound bounds over each box (the census tree's, tighter than fresh ones); computed here if absent */
  bounds?: NetworkBounds[];
}

export interface MilpTaskResult {
  status: 'proved' | 'refuted' | 'unknown';
  /** a plain-evaluated input where the claim fails */
  witness?: Float64Array;
}

/** Runs one task in this thread (the solver must be loaded). */
export function runMilpTask(t: MilpTask): MilpTaskResult {
  for (const [i, b] of t.boxes.entries()) {
    const r = milpNeuronSign(t.net, b, t.bounds?.[i] ?? crownBounds(t.net, b), t.layer, t.index, t.sign < 0 ? 1 : -1, t.timeMs / t.boxes.length);
    if (r.status === 'refuted' && r.witness) return { status: 'refuted', witness: r.witness };
    if (r.status !== 'proved') return { status: 'unknown' };
  }
  return { status: 'proved' };
}

/** The pool's entry point. */
export async function milpTaskJob(t: MilpTask): Promise<MilpTaskResult> {
  await loadMilpSolver();
  return runMilpTask(t);
}
