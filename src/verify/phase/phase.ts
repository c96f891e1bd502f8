/**
 * Phase census: for every hidden ReLU neuron, is it never active, always active, or both over a domain?
 *
 * 1. Falsify: sample the domain (plus box corners when there are few inputs); a neuron seen positive and negative is
 *    "both", with the two inputs as witnesses (they come from plain forward evaluation).
 * 2. Prove the rest with ONE shared input-splitting tree: every leaf box carries the candidates still open on it;
 *    sound bounds on the leaf settle most of them, the leaf centre may refute some (globally), and the leaf is split
 *    while candidates stay open. A neuron is proved never (always) active when its upper (lower) bound is <= 0
 *    (>= 0) on every leaf that covers the domain. On the worker pool the tree runs as two halves of the domain.
 *    With many inputs (MNIST) halving one input settles nothing: the tree only bounds the domain's boxes, with
 *    optimised slopes (alpha-CROWN) for every unstable neuron until the tree's time is up.
 * 3. Finishing tasks, one per candidate left open (on the pool when there is one): branch and bound aimed at that
 *    neuron (input splitting from its open leaves; ReLU splitting with many inputs), then MILP.
 * 4. What is left when the time, box or memory budget runs out is "unknown": it keeps the neuron.
 * A domain of more than MAX_DOMAIN_BOXES boxes is proved on hulls of groups of them (cover.ts): sound, perhaps
 * weaker; samples come from the boxes themselves, and a point found outside the domain refutes nothing.
 */
import type { Network } from '../../model/network.ts';
import { boxHull, splitBox, type Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import { manyInputs, widestInput } from '../search/split.ts';
import { crownBounds } from '../../bounds/backward.ts';
import { symbolicBounds } from '../../bounds/symbolic.ts';
import { runNeuronTask, type NeuronTask, type NeuronTaskResult } from './neuron-task.ts';
import { WorkerPool, type JobRunner } from '../../pool/pool.ts';
import { coverDomain } from '../search/cover.ts';
import { SEARCH_MEMORY_BYTES } from '../search/limits.ts';
import { neuronKey as key, type Cand, type NeuronPhase, type PhaseCensus, type PhaseOptions, type TreeJob, type TreeResult } from './types.ts';
import { PhaseWitnesses } from './witnesses.ts';
import { runTree } from './tree.ts';
import { absorbTrees, type CensusRound, type CensusState } from './rounds.ts';

export type { Phase, NeuronPhase, PhaseCensus, PhaseOptions, TreeJob, TreeResult } from './types.ts';
export { censusTreeJob } from './tree.ts';

/** The census's steps after sampling: the tree jobs over any boxes with a share of the time limit, and how to merge
 * the trees' results into finishing tasks and a census. */
interface CensusSearch {
  roots: Box[];
  treeJob: (boxes: Box[], share: number) => TreeJob;
  reportTree?: (open: number, boxes: number) => void;
  absorb: (parts: TreeResult[], roots: number) => CensusRound;
}

/** Sampling and local search; then the candidates left, for the tree. */
function censusSearch(net: Network, domain: Box[], opts: PhaseOptions): CensusSearch {
  const t0 = Date.now();
  const rng = mulberry32(opts.seed ?? 7);
  const { result, slot, claimSign } = censusNeurons(net, opts);
  // 1. sampling; the searches' boxes: the domain's, or with very many of them the hulls of groups (samples still
  // from the boxes)
  const witnesses = new PhaseWitnesses(net, result);
  const cover = coverDomain(domain);
  const roots = cover.boxes;
  if (!opts.claims) {
    witnesses.sample(cover, opts.samples ?? 4096, rng);
    witnesses.search(cover, opts, t0);
  }
  for (const np of result) witnesses.markBoth(np, 'falsified');
  // 2. shared input-splitting tree for the rest
  const cands = candidates(result, claimSign, witnesses);
  const st: CensusState = {
    net, opts, t0, result, slot, cands, witnesses, cover,
    // 'widest' splits are relative to the box around the whole domain; the finishing tasks continue that halving
    hull: boxHull(domain),
    many: manyInputs(net.inputSize),
  };
  const reportTree = opts.onProgress && ((open: number, boxes: number) => opts.onProgress!(result.length - open, result.length, boxes));
  return { roots, treeJob: (boxes, share) => treeJob(st, boxes, share), reportTree, absorb: (parts, n) => absorbTrees(st, parts, n) };
}

/** The neurons the census decides (the claims' alone when re-proving claims), each 'unknown' for now. */
function censusNeurons(net: Network, opts: PhaseOptions): { result: NeuronPhase[]; slot: Map<number, NeuronPhase>; claimSign: Map<number, 1 | -1> } {
  const hidden = opts.layers ?? net.layers.slice(0, -1).map((_, k) => k);
  const result: NeuronPhase[] = [];
  const slot = new Map<number, NeuronPhase>();
  const claimSign = new Map<number, 1 | -1>();
  for (const c of opts.claims ?? []) claimSign.set(key(c.layer, c.index), c.sign);
  for (const k of hidden) {
    const L = net.layers[k];
    for (let i = 0; i < L.outSize; i++) {
      if (!L.relu[i]) continue;
      if (opts.claims && !claimSign.has(key(k, i))) continue;
      const np: NeuronPhase = { layer: k, index: i, phase: 'unknown', method: 'none' };
      result.push(np);
      slot.set(key(k, i), np);
    }
  }
  return { result, slot, claimSign };
}

/** A candidate per open neuron: seen only negative, try "never active"; seen only positive, "always active";
 * neither: never active first; a claim: its sign. */
function candidates(result: NeuronPhase[], claimSign: Map<number, 1 | -1>, witnesses: PhaseWitnesses): Cand[] {
  const cands: Cand[] = [];
  for (const np of result) {
    if (np.phase !== 'unknown') continue;
    const kk = key(np.layer, np.index);
    const id = cands.length;
    const claimed = claimSign.get(kk);
    if (claimed) cands.push({ id, layer: np.layer, index: np.index, sign: claimed });
    else if (!witnesses.pos.has(kk)) cands.push({ id, layer: np.layer, index: np.index, sign: -1 });
    else cands.push({ id, layer: np.layer, index: np.index, sign: 1 });
  }
  return cands;
}

/** The tree over these boxes with this share of the limits; its time limit counts from the start, sampling
 * included. */
function treeJob(st: CensusState, boxes: Box[], share: number): TreeJob {
  const { net, opts, many } = st;
  return {
    net,
    boxes,
    cands: st.cands,
    timeoutMs: Math.max(0, opts.timeoutMs - (Date.now() - st.t0)) * share,
    // many inputs: the roots' bounds only (halving one input of hundreds settles nothing), with optimised slopes
    // (MNIST 10x20 over a 0.02 ball: the sum of the bounds' widths a third of CROWN's, in 0.2 s); the tasks split ReLUs
    maxBoxes: many ? boxes.length : Math.ceil((opts.maxBoxes ?? 5_000_000) * share),
    ...(opts.maxOpen !== undefined ? { maxOpen: Math.max(1, Math.floor(opts.maxOpen * share)) } : {}),
    memoryBytes: SEARCH_MEMORY_BYTES * share,
    tightenRoots: many,
    hull: st.hull,
    splitRule: opts.splitRule ?? 'widest',
    backSubstitute: opts.backSubstitute !== false,
    claims: opts.claims !== undefined,
    ...(opts.boundsFn === crownBounds ? { bounds: 'crown' as const } : opts.boundsFn === symbolicBounds ? { bounds: 'symbolic' as const } : {}),
  };
}

/** The census in this thread, finishing tasks included (their MILP part only when the solver is loaded). */
export function phaseCensus(net: Network, domain: Box[], opts: PhaseOptions): PhaseCensus {
  const st = censusSearch(net, domain, opts);
  let next: PhaseCensus | CensusRound = st.absorb([runTree(st.treeJob(st.roots, 1), opts.boundsFn, st.reportTree)], st.roots.length);
  while (!('neurons' in next)) {
    const round: CensusRound = next;
    const report = finishReporter(round.tasks, opts);
    next = round.finish(round.tasks.map((t) => {
      const r = runNeuronTask(t);
      report(t);
      return r;
    }));
  }
  return next;
}

/** Progress of the finishing tasks: how many are done, and at most how long the rest can take. */
function finishReporter(tasks: NeuronTask[], opts: PhaseOptions): (t: NeuronTask) => void {
  let left = tasks.reduce((s, t) => s + t.timeMs, 0);
  let done = 0;
  if (tasks.length) opts.onFinishProgress?.(0, tasks.length, left);
  return (t) => {
    done++;
    left -= t.timeMs;
    opts.onFinishProgress?.(done, tasks.length, left);
  };
}

/** The census with its finishing tasks on a worker pool: the same verdicts as phaseCensus, sooner. */
export async function phaseCensusParallel(net: Network, domain: Box[], opts: PhaseOptions, workers: number | JobRunner): Promise<PhaseCensus> {
  // a runner given (the job queue) is its owner's to close
  if (typeof workers !== 'number') return censusOnPool(net, domain, opts, workers);
  // the workers start while this thread samples; the tree's halves and the finishing tasks share them
  const pool = new WorkerPool(workers);
  try {
    return await censusOnPool(net, domain, opts, pool);
  } finally {
    await pool.close();
  }
}

async function censusOnPool(net: Network, domain: Box[], opts: PhaseOptions, pool: JobRunner): Promise<PhaseCensus> {
  const st = censusSearch(net, domain, opts);
  // the tree as TREE_PARTS jobs, each a part of the domain with that share of the time (the same parts whatever the
  // number of workers); in this thread when the bounds cannot be named to a worker or claims are re-proved
  const whole = st.treeJob(st.roots, 1);
  let fin: CensusRound;
  if (whole.bounds && !whole.claims && whole.cands.length > 0 && !manyInputs(net.inputSize)) {
    const parts = domainParts(st.roots, whole.hull);
    const jobs = parts.map((boxes) => st.treeJob(boxes, 1 / parts.length));
    // the parts report only when done: a timer keeps the progress line (and its time left) moving meanwhile
    let done = 0;
    let boxes = 0;
    const show = (): void => st.reportTree?.(done < jobs.length ? whole.cands.length : 0, boxes);
    show();
    const tick = st.reportTree ? setInterval(show, 250) : undefined;
    try {
      const trees = await pool.run<TreeJob, TreeResult>(new URL('./tree.ts', import.meta.url).href, 'censusTreeJob', jobs, (_, r) => {
        done++;
        boxes += r.boxes;
        show();
      });
      fin = st.absorb(trees, parts.reduce((s, p) => s + p.length, 0));
    } finally {
      clearInterval(tick);
    }
  } else {
    fin = st.absorb([runTree(whole, opts.boundsFn, st.reportTree)], st.roots.length);
  }
  let next: PhaseCensus | CensusRound = fin;
  while (!('neurons' in next)) {
    // between rounds (no job in flight): the caller may end the census here (a timer's abort)
    await opts.pause?.();
    const round: CensusRound = next;
    const report = finishReporter(round.tasks, opts);
    const results = round.tasks.length ? await pool.run<NeuronTask, NeuronTaskResult>(new URL('./neuron-task.ts', import.meta.url).href, 'neuronTaskJob', round.tasks, (i) => report(round.tasks[i])) : [];
    next = round.finish(results);
  }
  return next;
}

/** How many parts the parallel census cuts its tree into (a fixed number: the verdicts do not depend on the workers). */
const TREE_PARTS = 2;

/** The domain as TREE_PARTS parts: its boxes dealt out in turn, or one box halved along its widest input. */
function domainParts(domain: Box[], hull: Box): Box[][] {
  if (domain.length >= TREE_PARTS) return Array.from({ length: TREE_PARTS }, (_, p) => domain.filter((_, i) => i % TREE_PARTS === p));
  return splitBox(domain[0], widestInput(domain[0], hull)).map((b) => [b]);
}
