/**
 * The search steps a queue worker runs (queue/sessions.ts sends them): a step of an input-splitting tree with the
 * state its search shares made from the job itself, since a queue has no sessions. Making that state is a spread
 * of the job's fields (the network and the question), so each step pays nothing for it.
 */
import { expandOnWorker, splitContextOnWorker, type ExpandJob, type Expansion, type SplitSetupJob } from '../verify/search/input-split.ts';
import { splitOnWorker, treeContextOnWorker } from '../verify/property/maximize.ts';

export interface StepJob<S, J> {
  setup: S;
  step: J;
}

/** One box of the property search's tree (property.ts, decidePropertyOnPool). */
export function splitStep(job: StepJob<SplitSetupJob, ExpandJob>): Expansion {
  return expandOnWorker(job.step, splitContextOnWorker(job.setup));
}

export type MaxSetup = Parameters<typeof treeContextOnWorker>[0];
export type MaxStep = Parameters<typeof splitOnWorker>[0];

/** One box of a maximisation's tree (maximize.ts, maximizeLinearOnPool). */
export function maxStep(job: StepJob<MaxSetup, MaxStep>): ReturnType<typeof splitOnWorker> {
  return splitOnWorker(job.step, treeContextOnWorker(job.setup));
}
