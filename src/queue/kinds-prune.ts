/**
 * The job kinds of `prune --redis` beyond the census's (kinds.ts): the final check's sample comparison, chunk by
 * chunk. A chunk is evidence, never a proof: one that failed on every attempt has no open answer and ends the run
 * (nothing written).
 */
import { fail } from '../errors.ts';
import { outputSize } from '../model/network.ts';
import type { SampleJob } from '../simplify/sample-compare.ts';
import { box, int, network, obj, tolerance } from './validate.ts';

const here = (path: string): string => new URL(path, import.meta.url).href;

/** the most points one chunk may ask for (the coordinator sends 4,096) */
const MAX_CHUNK_POINTS = 1_000_000;

/** a JobKind (kinds.ts lists it; the type is not imported here, so the two files import one way) */
export const sampleKind = {
  name: 'sample-chunk',
  module: here('../simplify/sample-compare.ts'),
  exportName: 'sampleChunk',
  accept(v: unknown): SampleJob {
    const o = obj(v, 'sample job');
    const f = network(o.f, 'sample job: f');
    const g = network(o.g, 'sample job: g');
    if (g.inputSize !== f.inputSize || outputSize(g) !== outputSize(f)) fail('sample job: f and g differ in their inputs or outputs');
    const job: SampleJob = {
      f,
      g,
      box: box(o.box, f.inputSize, 'sample job: box'),
      count: int(o.count, 'sample job: count', 1, MAX_CHUNK_POINTS),
      seed: int(o.seed, 'sample job: seed', 0, 2 ** 32 - 1),
      tolerance: tolerance(o.tolerance, 'sample job: tolerance'),
    };
    return job;
  },
};
