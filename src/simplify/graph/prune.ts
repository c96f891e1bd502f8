/**
 * Exact channel pruning of a graph network on a domain: the phase census proves ReLU channels never active at any
 * position; the channels they make zero (through pooling, padding, residual adds, concatenation, flattening) that
 * can go together are removed, each producer losing its filter and each consumer its input slice. Channels proved
 * constant (constants.ts: e.g. a zero filter with a bias) go too where their consumers can take the constant into
 * a bias; ReLU nodes proved always active at every element are dropped (linear-relu.ts); batchnorms are folded into
 * the conv before them (bn-fold.ts). The function is unchanged on the domain, up to the rounding of folded
 * parameters (check.ts proves it about the file as written).
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import { graphPhaseCensus, type GraphCensus } from '../../verify/graph/census.ts';
import { channelSummary, removableChannels, removeChannels, zeroChannels, type ChannelSets } from './channels.ts';
import { deadChannelsOf } from './dead.ts';
import { constantChannels, type ConstSets } from './constants.ts';
import { dropNodes, linearReluNodes } from './linear-relu.ts';
import { foldableBatchNorms, foldBatchNorms } from './bn-fold.ts';

export interface GraphPruneOptions {
  timeoutMs: number;
  seed: number;
  onProgress?: (phase: string, done: number, total: number, leftMs: number) => void;
}

export interface GraphPruneResult {
  census: GraphCensus;
  /** per ReLU-like node, its input channels proved never active */
  dead: Map<string, number[]>;
  /** per tensor, the channels identically zero on the domain, and those removed (the ones that can go together) */
  zero: ChannelSets;
  removed: ChannelSets;
  /** the constant channels of f (zero ones as [0, 0]) that the removal may fold into biases */
  constants: ConstSets;
  /** ReLU nodes proved the identity on the domain (every element always active), dropped */
  linear: string[];
  /** batchnorm nodes folded into the conv or dense before them */
  batchnorms: string[];
  pruned: Graph;
  summary: ReturnType<typeof channelSummary>;
}

/** The prune from facts already proved (a census of f on the domain). */
export function pruneFromCensus(f: Graph, census: GraphCensus): GraphPruneResult {
  const dead = deadChannelsOf(census);
  const zero = zeroChannels(f, dead);
  const constants = constantChannels(f, zero);
  const removed = removableChannels(f, zero, constants);
  const linear = linearReluNodes(f, census);
  const unfolded = dropNodes(removeChannels(f, removed, constants), linear);
  // a fold always stores fewer parameters (the batchnorm's go), so every foldable one is folded
  const batchnorms = [...foldableBatchNorms(unfolded).keys()];
  const pruned = foldBatchNorms(unfolded, batchnorms);
  return { census, dead, zero, removed, constants, linear, batchnorms, pruned, summary: channelSummary(f, pruned) };
}

export function pruneGraphChannels(f: Graph, boxes: readonly Box[], o: GraphPruneOptions): GraphPruneResult {
  const census = graphPhaseCensus(f, [...boxes], { timeoutMs: o.timeoutMs, seed: o.seed, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
  return pruneFromCensus(f, census);
}
