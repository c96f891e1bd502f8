/**
 * `census(model, domain, options)`: the phase of every hidden ReLU over the domain, as `nnshrink bounds --census`
 * computes it: a chain's shared input-splitting tree, then one finishing task per neuron still open, on worker
 * threads or the job queue (the verdicts do not depend on how many); a graph's per ReLU node and per channel.
 */
import type { Network } from '../model/network.ts';
import type { Graph } from '../model/graph/types.ts';
import type { Box } from '../model/box.ts';
import type { JobRunner } from '../pool/pool.ts';
import { crownBounds } from '../bounds/backward.ts';
import { phaseCensusParallel, type PhaseCensus, type PhaseOptions } from '../verify/phase/phase.ts';
import { graphPhaseCensus, type GraphCensus } from '../verify/graph/census.ts';
import { checkpoint, reporter, type RunOptions } from './run.ts';

/**
 * The options of {@link census}: the time limit of a chain's shared tree (`timeoutMs`, default 30 s; the finishing
 * tasks have their own, `finishTaskMs` or a share of `finishBudgetMs`), worker threads or a job runner for the
 * tree's parts and the tasks (default 1), and the census's own work limits (PhaseOptions). A graph's census takes
 * only `timeoutMs`, the signal and the progress callback.
 */
export interface CensusOptions extends RunOptions, Partial<Omit<PhaseOptions, 'boundsFn' | 'timeoutMs' | 'onProgress' | 'onFinishProgress' | 'pause'>> {
  /** the time limit in milliseconds (default 30,000); reaching it leaves neurons unknown, never proved */
  timeoutMs?: number;
  /** worker threads (default 1), or a job runner (the job queue's, which its owner closes) */
  workers?: number | JobRunner;
}

const isGraph = (m: Network | Graph): m is Graph => 'nodes' in m;
const boxesOf = (domain: Box | Box[]): Box[] => (Array.isArray(domain) ? domain : [domain]);

/**
 * The phase of every hidden ReLU over the domain: `never` or `always` active (proved), `both` (two witnesses
 * evaluated), or `unknown` within the limits. A graph gets the census per ReLU node (GraphCensus); a graph's bound
 * refused (a divisor's interval holding 0) leaves only witnesses, with `reason` saying so.
 * @throws NnsError `aborted` (a chain's census sees the signal when it ends: it also reports from a timer, where a
 * throw would escape every caller; a graph's at every progress report)
 */
export async function census(model: Network, domain: Box | Box[], opts?: CensusOptions): Promise<PhaseCensus>;
export async function census(model: Graph, domain: Box | Box[], opts?: RunOptions & { timeoutMs?: number }): Promise<GraphCensus>;
export async function census(model: Network | Graph, domain: Box | Box[], opts: CensusOptions = {}): Promise<PhaseCensus | GraphCensus> {
  const { timeoutMs = 30_000, workers = 1, signal, onProgress, ...rest } = opts;
  const report = reporter(opts);
  await checkpoint(signal);
  if (isGraph(model)) {
    const r = graphPhaseCensus(model, boxesOf(domain), { timeoutMs, onProgress: (stage, done, total, leftMs) => report({ stage: `phase census (${stage})`, done, total, leftMs }) });
    await checkpoint(signal);
    return r;
  }
  // the finishing tasks end with MILP: each task's job loads the solver where it runs (a worker, or this thread)
  const t0 = Date.now();
  const size = typeof workers === 'number' ? Math.max(1, Math.floor(workers)) : workers.size;
  const r = await phaseCensusParallel(model, boxesOf(domain), {
    ...rest,
    boundsFn: crownBounds,
    timeoutMs,
    // between the census's rounds a timer's abort is seen (a round itself runs to its end)
    pause: () => checkpoint(signal),
    onProgress: (done, total, boxes) => onProgress?.({ stage: 'phase census (neurons decided)', done, total, detail: `${boxes} boxes`, leftMs: Math.max(0, timeoutMs - (Date.now() - t0)) }),
    // the tasks' time left as if on one worker: shared by the runner's
    onFinishProgress: (done, total, leftMs) => onProgress?.({ stage: 'phase census (finishing open neurons)', done, total, leftMs: leftMs / size }),
  }, typeof workers === 'number' ? size : workers);
  await checkpoint(signal);
  return r;
}
