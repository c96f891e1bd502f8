/** One VNN-COMP instance, decided in a worker of the pool (bench/vnncomp.ts). */
import { loadModel } from '../src/formats/load.ts';
import { readVnnlib } from '../src/formats/vnnlib.ts';
import { decideProperty, type PropertyResult } from '../src/verify/property.ts';
import { crownBounds } from '../src/bounds/backward.ts';
import { outputLinearLower } from '../src/bounds/objective.ts';

export interface InstanceJob {
  model: string;
  property: string;
  timeoutMs: number;
}

export function decideInstance(job: InstanceJob): PropertyResult {
  const m = loadModel(job.model);
  const p = readVnnlib(job.property);
  return decideProperty(m.network, p, { boundsFn: crownBounds, outputLinearLower, timeoutMs: job.timeoutMs });
}
