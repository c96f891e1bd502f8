/**
 * The search both tolerance prunes of graphs share (class-prune.ts, eps-prune.ts): candidate live channels are
 * tried in groups, as in delta debugging, each attempt asking the caller's acceptance test whether the network with
 * the channels accepted so far plus the group killed still meets the claim. A group that fails is halved, a single
 * one that fails is dropped; the group size doubles after a success. The search stops at a time budget or a work
 * limit (attempts); what it returns was accepted, and the caller keeps the network that was proved.
 */
import type { Box } from '../../model/box.ts';
import type { GraphCensusOptions } from '../../verify/graph/census.ts';
import { samplePoints } from '../../verify/graph/census-sites.ts';
import type { NotKillable } from './kill.ts';
import type { Candidate } from './class-candidates.ts';

/** The options both tolerance prunes take (each adds its claim's parameters). */
export interface KillSearchOptions {
  /** the whole prune: the census, the search and what each mode proves besides */
  timeoutMs: number;
  /** the exact prune's census, and any census after it (default: a third of timeoutMs) */
  censusTimeoutMs?: number;
  /** the census's work limit (GraphCensusOptions.maxClaims; default none): with it and a generous census time,
   * the whole result is the same on any machine */
  censusMaxClaims?: number;
  /** proof attempts at most (a work limit; default 64) */
  maxAttempts?: number;
  /** ReLU-splitting subproblems per query at most (default 64) */
  maxNodes?: number;
  /** sampled points per box: a cheap refutation before each proof, and the activations that order the candidates
   * (default 64) */
  samples?: number;
  seed: number;
  onProgress?: (phase: string, done: number, total: number, leftMs: number) => void;
}

/** What one attempt found: the claim proved for the network, a point breaking it, or neither within the limits. */
export type Outcome = 'proved' | 'refuted' | 'unknown';

export interface KillSearchStats<Why extends string = never> {
  /** live ReLU channels whose kill alone lets a channel go */
  candidates: number;
  notKillable: NotKillable[];
  attempts: number;
  /** ReLU channels killed in the result */
  accepted: number;
  proved: number;
  refuted: number;
  unknown: number;
  timeMs: number;
  /** 'done': every candidate tried; 'budget': out of time; 'work': out of attempts; else why no search ran */
  ended: 'done' | 'budget' | 'work' | Why;
}

export interface KillSearchLimits {
  deadline: number;
  maxAttempts: number;
  /** the progress line's label */
  label: string;
  onProgress?: (phase: string, done: number, total: number, leftMs: number) => void;
}

/** A census's options from the search's (the defaults above applied); `nodes`: on those ReLU nodes only. */
export function censusOptions(o: KillSearchOptions, nodes?: ReadonlySet<string>): GraphCensusOptions {
  return {
    timeoutMs: o.censusTimeoutMs ?? o.timeoutMs / 3, seed: o.seed, ...(nodes ? { nodes } : {}),
    ...(o.censusMaxClaims !== undefined ? { maxClaims: o.censusMaxClaims } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  };
}

/** The sampled points of every box (o.samples each, default 64), seeded per box. */
export const searchPoints = (boxes: readonly Box[], o: KillSearchOptions): Float64Array[] => boxes.flatMap((b, k) => samplePoints(b, o.samples ?? 64, o.seed + 7919 * k));

/** groupSearch's limits from the search's options (o.maxAttempts, default 64). */
export const searchLimits = (o: KillSearchOptions, deadline: number, label: string): KillSearchLimits => ({ deadline, maxAttempts: o.maxAttempts ?? 64, label, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });

/** Per ReLU node, its channels among `kills`, ascending (the form killChannels takes). */
export function killsByNode(kills: readonly Candidate[]): Map<string, number[]> {
  const byNode = new Map<string, number[]>();
  for (const k of kills) byNode.set(k.node, [...(byNode.get(k.node) ?? []), k.channel]);
  for (const chs of byNode.values()) chs.sort((a, b) => a - b);
  return byNode;
}

/** One attempt: counted in stats, its outcome tallied. */
export function tally<W extends string>(stats: KillSearchStats<W>, outcome: Outcome): boolean {
  stats.attempts++;
  stats[outcome]++;
  return outcome === 'proved';
}

/**
 * Tries the candidates in groups on top of what is accepted; returns the accepted ones in order. `accept` is
 * called with the whole kill set of an attempt (accepted so far plus the group) and keeps whatever it proved.
 */
export function groupSearch<W extends string>(cands: readonly Candidate[], accept: (kills: readonly Candidate[]) => Outcome, o: KillSearchLimits, stats: KillSearchStats<W>): Candidate[] {
  const accepted: Candidate[] = [];
  let groupSize = cands.length;
  let i = 0;
  while (i < cands.length) {
    if (stats.attempts >= o.maxAttempts) return ((stats.ended = 'work'), accepted);
    if (Date.now() > o.deadline) return ((stats.ended = 'budget'), accepted);
    const group = cands.slice(i, i + groupSize);
    o.onProgress?.(o.label, i, cands.length, o.deadline - Date.now());
    if (tally(stats, accept([...accepted, ...group]))) {
      accepted.push(...group);
      i += group.length;
      groupSize *= 2;
    } else if (group.length > 1) groupSize = Math.ceil(group.length / 2);
    else i++;
  }
  // the last attempt may have run out of time rather than failed
  stats.ended = Date.now() > o.deadline ? 'budget' : 'done';
  return accepted;
}
