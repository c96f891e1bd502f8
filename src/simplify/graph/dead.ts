/**
 * The facts a channel prune stands on: per ReLU-like node, the channels of its input (axis 0 of the per-sample
 * shape; every element of a 1-D input) proved never above the kink at any position on the domain.
 */
import type { GraphCensus } from '../../verify/graph/census.ts';

/** node name -> its input's channels proved never active at every position; nodes with none are left out */
export function deadChannelsOf(c: GraphCensus): Map<string, number[]> {
  const dead = new Map<string, number[]>();
  for (const L of c.layers) {
    const C = L.shape[0];
    const per = L.phases.length / C;
    const channels: number[] = [];
    for (let ch = 0; ch < C; ch++) {
      let all = true;
      for (let i = ch * per; i < (ch + 1) * per && all; i++) all = L.phases[i] === 'never';
      if (all) channels.push(ch);
    }
    if (channels.length) dead.set(L.node, channels);
  }
  return dead;
}

/** How many channels a set names in all. */
export const channelCount = (s: ReadonlyMap<string, readonly number[]>): number => [...s.values()].reduce((a, v) => a + v.length, 0);

/** Whether every channel of `a` is in `b`; the first one that is not, as 'tensor[channel]', else null. */
export function firstNotIn(a: ReadonlyMap<string, readonly number[]>, b: ReadonlyMap<string, readonly number[]>): string | null {
  for (const [t, chs] of a) {
    const have = new Set(b.get(t) ?? []);
    const miss = chs.find((c) => !have.has(c));
    if (miss !== undefined) return `${t}[${miss}]`;
  }
  return null;
}

/** Channels never active at SOME positions but not all: no structural change can use them, the report counts them. */
export function partlyDeadChannels(c: GraphCensus): number {
  let n = 0;
  for (const L of c.layers) {
    const C = L.shape[0];
    const per = L.phases.length / C;
    for (let ch = 0; ch < C; ch++) {
      let never = 0;
      for (let i = ch * per; i < (ch + 1) * per; i++) if (L.phases[i] === 'never') never++;
      if (never > 0 && never < per) n++;
    }
  }
  return n;
}
