/**
 * The facts a channel prune stands on: per ReLU-like node, the channels of its input (axis 0 of the per-sample
 * shape; every element of a 1-D input) proved never above the kink at any position on the domain.
 */
import type { GraphCensus, LayerCensus } from '../../verify/graph/census.ts';

/** Per channel of the node's input, at how many of its `per` positions it is proved never active. */
function neverPerChannel(L: LayerCensus): { never: Int32Array; per: number } {
  const C = L.shape[0];
  const per = L.phases.length / C;
  const never = new Int32Array(C);
  L.phases.forEach((p, i) => p === 'never' && never[Math.floor(i / per)]++);
  return { never, per };
}

/** node name -> its input's channels proved never active at every position; nodes with none are left out */
export function deadChannelsOf(c: GraphCensus): Map<string, number[]> {
  const dead = new Map<string, number[]>();
  for (const L of c.layers) {
    const { never, per } = neverPerChannel(L);
    const channels = [...never.keys()].filter((ch) => never[ch] === per);
    if (channels.length) dead.set(L.node, channels);
  }
  return dead;
}

/** Channels never active at SOME positions but not all: no structural change can use them, the report counts them. */
export function partlyDeadChannels(c: GraphCensus): number {
  let n = 0;
  for (const L of c.layers) {
    const { never, per } = neverPerChannel(L);
    for (const k of never) if (k > 0 && k < per) n++;
  }
  return n;
}

/** How many channels a set names in all. */
export const channelCount = (s: ReadonlyMap<string, readonly number[]>): number => [...s.values()].reduce((a, v) => a + v.length, 0);

/** The channels of `a` that `b` does not have, as 'tensor[channel]', in a's order. */
export function missingFrom(a: ReadonlyMap<string, readonly number[]>, b: ReadonlyMap<string, readonly number[]>): string[] {
  const out: string[] = [];
  for (const [t, chs] of a) {
    const have = new Set(b.get(t) ?? []);
    for (const c of chs) if (!have.has(c)) out.push(`${t}[${c}]`);
  }
  return out;
}

/** The union of channel sets, per key, ascending and without repeats. */
export function unionChannels(...sets: Array<ReadonlyMap<string, readonly number[]>>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of sets) for (const [k, chs] of s) out.set(k, [...(out.get(k) ?? []), ...chs]);
  for (const [k, chs] of out) out.set(k, [...new Set(chs)].sort((a, b) => a - b));
  return out;
}
