/**
 * One VNN-LIB instance (a model file and a property file) decided where it is run: in a worker thread of the pool
 * when `verify --instances` decides a list side by side. Each instance has its own time limit, so its verdict does
 * not depend on how many run at once.
 */
import { loadModel } from '../../formats/load.ts';
import { readVnnlib } from '../../formats/vnnlib.ts';
import { crownBounds } from '../../bounds/backward.ts';
import { outputLinearLower } from '../../bounds/objective.ts';
import { decideProperty, type PropertyResult } from './property.ts';
import { loadMilpSolver } from '../search/milp.ts';
import { manyInputs } from '../search/split.ts';

export interface InstanceJob {
  model: string;
  property: string;
  timeoutMs: number;
  view?: 'raw' | 'normalized';
}

export async function decideInstance(job: InstanceJob): Promise<PropertyResult> {
  const m = loadModel(job.model, { view: job.view ?? 'raw' });
  const p = readVnnlib(job.property);
  // with many inputs what ReLU splitting leaves goes to an exact MILP (the solver loads once per thread)
  if (manyInputs(m.network.inputSize)) await loadMilpSolver();
  return decideProperty(m.network, p, { boundsFn: crownBounds, outputLinearLower, timeoutMs: job.timeoutMs });
}
