/**
 * The class question with many inputs, for g alone. Input splitting cannot settle it on an MNIST ball (halving one
 * pixel's range moves no bound) and the difference bounds over the whole ball are often too loose; but when f's
 * winner c is proved to lead everywhere on the domain (class-margins.ts), it is enough that g's winner is c
 * everywhere too: sigma (g_w - g_c) > gSlack for every other output w, each a ReLU-splitting query on g.
 */
import { outputSize, type Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { BoundsFn, OutputLinearLower } from '../bounds-fn.ts';
import { proveAllPositive, type AllPositive } from '../search/relu-bab.ts';
import { provedClassMargins, type ClassMargins } from './class-margins.ts';

/** The output whose lead over every other one is proved positive on the whole domain, or -1. */
export function provedUniqueWinner(fLower: Float64Array | undefined, m: number): number {
  if (!fLower) return -1;
  for (let c = 0; c < m; c++) {
    let all = true;
    for (let w = 0; w < m && all; w++) if (w !== c && !(fLower[w * m + c] > 0)) all = false;
    if (all) return c;
  }
  return -1;
}

/**
 * Proves sigma (g_w - g_winner) > gSlack for every w != winner on every box, by the deadline (ReLU splitting on g);
 * a failing search's point comes back as a candidate for the caller to re-check.
 */
export function gKeepsWinner(g: Network, boxes: Box[], winner: number, order: 'argmax' | 'argmin', gSlack: number, boundsFn: BoundsFn, deadline: number, maxNodes?: number): AllPositive {
  const sigma = order === 'argmin' ? 1 : -1;
  const m = outputSize(g);
  const objectives = [];
  for (let w = 0; w < m; w++) {
    if (w === winner) continue;
    const c = new Float64Array(m);
    c[w] = sigma;
    c[winner] = -sigma;
    objectives.push({ c, d: -gSlack });
  }
  return proveAllPositive(g, boxes, objectives, boundsFn, deadline, maxNodes);
}

export interface WinnerCheckOptions {
  boundsFn: BoundsFn;
  outputLinearLower: OutputLinearLower;
  timeoutMs: number;
  seed?: number;
}

/**
 * f's class margins for a check that needs only its winner unique, with half of the check's time. Any positive
 * margin does: a tenth of the sampled lead is proved several times sooner than half (MNIST 256x2 prop_0_0.03: all
 * nine in 1.8 s against eight of nine in 7.4 s).
 */
export function winnerMargins(f: Network, boxes: Box[], order: 'argmax' | 'argmin', opts: WinnerCheckOptions): ClassMargins | null {
  return provedClassMargins(f, boxes, order, {
    boundsFn: opts.boundsFn,
    outputLinearLower: opts.outputLinearLower,
    timeMs: opts.timeoutMs / 2,
    budgetMs: opts.timeoutMs / 2,
    seed: opts.seed,
    aim: 0.1,
  });
}

/**
 * Any f and g with the same inputs and outputs (strangers too): f's winner proved unique on the domain (its margins,
 * with half the time), then g shown to keep it everywhere. Proves "wherever f's winner leads, g's is the same" for
 * any margin; else unknown, with the point where a query of g failed, if any (the caller re-checks it).
 */
export function classByWinners(
  f: Network,
  g: Network,
  boxes: Box[],
  order: 'argmax' | 'argmin',
  opts: WinnerCheckOptions,
): { status: 'proved'; timeMs: number; nodes: number } | { status: 'unknown'; timeMs: number; candidate?: Float64Array } {
  const t0 = Date.now();
  const margins = winnerMargins(f, boxes, order, opts);
  const winner = margins ? provedUniqueWinner(margins.lower, outputSize(f)) : -1;
  if (winner < 0) return { status: 'unknown', timeMs: Date.now() - t0 };
  const r = gKeepsWinner(g, boxes, winner, order, 0, opts.boundsFn, t0 + opts.timeoutMs);
  if (r.status === 'proved') return { status: 'proved', timeMs: Date.now() - t0, nodes: r.nodes };
  return { status: 'unknown', timeMs: Date.now() - t0, ...(r.candidate ? { candidate: r.candidate } : {}) };
}
