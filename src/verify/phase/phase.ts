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
import { forwardTrace, type Network } from '../../model/network.ts';
import { boxCenter, boxHull, splitBox, type Box } from '../../model/box.ts';
import { mulberry32 } from '../../model/rng.ts';
import { MaxHeap } from '../search/heap.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import type { BoundsFn } from '../equiv/equiv.ts';
import { chooseSplit, manyInputs, widestInput } from '../search/split.ts';
import { maximizeBySearch } from '../search/search.ts';
import { backwardBound, crownBounds } from '../../bounds/backward.ts';
import { symbolicBounds } from '../../bounds/symbolic.ts';
import { alphaCrownBounds } from '../../bounds/alpha.ts';
import { claimFails, runNeuronTask, type NeuronTask, type NeuronTaskResult } from './neuron-task.ts';
import { WorkerPool } from '../../pool/pool.ts';
import { coverDomain, sampleCoverBox } from '../search/cover.ts';
import { BOX_LIMIT, MEMORY_LIMIT, SEARCH_MEMORY_BYTES, boundsBytes, boxBytes, heldBounds, openCap } from '../search/limits.ts';

export type Phase = 'never' | 'always' | 'both' | 'unknown';

export interface NeuronPhase {
  layer: number;
  index: number;
  phase: Phase;
  /** how it was decided: falsified (samples, search), bounds, input-split, relu-split, milp, task-witness; why not:
   * timeout, memory limit, box limit (the shared tree stopped there with the neuron open), refuted-one-way */
  method: string;
  /** for 'both': an input where the pre-activation is > 0 and one where it is < 0 */
  activeWitness?: Float64Array;
  inactiveWitness?: Float64Array;
}

export interface PhaseCensus {
  neurons: NeuronPhase[];
  counts: Record<Phase, number>;
  boxes: number;
  timeMs: number;
}

export interface PhaseOptions {
  boundsFn: BoundsFn;
  timeoutMs: number;
  samples?: number;
  /** a work limit: the shared tree bounds at most this many boxes (default 5,000,000), at the same box on any
   * machine */
  maxBoxes?: number;
  /** at most this many open boxes in the shared tree (default: SEARCH_MEMORY_BYTES over what one holds, limits.ts;
   * a part of the tree on the pool gets its share); past it the tree stops and leaves its neurons open */
  maxOpen?: number;
  seed?: number;
  /** which layers to examine (default: every hidden layer) */
  layers?: number[];
  /**
   * Prove only these claims (+1 always active, -1 never active), with no sampling: a fresh re-proof of facts found
   * earlier. Claims that cannot be proved in time come back 'unknown'.
   */
  claims?: Array<{ layer: number; index: number; sign: 1 | -1 }>;
  /** finish the candidates the shared tree leaves open (timeoutMs is the tree's limit) with one task each: branch
   * and bound aimed at the one neuron, then MILP when the solver is loaded (default on) */
  finish?: boolean;
  /** at most this many finishing tasks (default 64), the fewest open leaves first */
  finishTasks?: number;
  /** the tasks' total time (default timeoutMs; with many inputs plus timeoutMs, which the tree does not use),
   * shared evenly (each 0.1-10 s) unless finishTaskMs is given */
  finishBudgetMs?: number;
  finishTaskMs?: number;
  /** share of each task's time for branch and bound aimed at its neuron, before MILP (default 0.75) */
  finishSplitShare?: number;
  /** a work limit for each task's branch and bound (boxes, or ReLU-splitting nodes): the same verdicts on any machine
   * when the time limits are generous (default none) */
  finishMaxBoxes?: number;
  /**
   * how to choose the input to split: 'widest' (relative to the domain; default: on the 45 ACAS Xu networks, 3 s
   * tree + 1 s tasks, 389 unknown against smear's 407, both with the tree's optimised slopes since removed) or
   * 'smear' (the input that matters most to the worst open candidates)
   */
  splitRule?: 'smear' | 'widest';
  /** refine each open candidate by back-substitution (default on) */
  backSubstitute?: boolean;
  onProgress?: (decided: number, total: number, boxes: number) => void;
  /** finishing tasks done / total, with a bound on the time they have left (all on one worker) */
  onFinishProgress?: (done: number, total: number, leftMs: number) => void;
}

/** Candidate neuron still open: layer, index, and the sign we try to prove (+1 always active, -1 never active). */
interface Cand {
  id: number;
  layer: number;
  index: number;
  sign: 1 | -1;
}

/** A round of finishing tasks, and what follows from their results: the census, or a further round. */
interface CensusRound {
  tasks: NeuronTask[];
  finish: (results: NeuronTaskResult[]) => PhaseCensus | CensusRound;
}

/** With many inputs: a first round of short tasks, for at most this many open neurons. */
const QUICK_TASKS = 4096;
// 0.1 s against 0.25 s (MNIST 256x4 over a 0.05 ball, about 650 open neurons): 469 unknown against 455, in 78 s
// against 120 s
const QUICK_TASK_MS = 100;
const QUICK_MIN_MS = 25;

/** Neurons whose finishing tasks may run MILP on their open leaves: at most this many leaves. */
const MAX_LEAVES = 24;

/**
 * Sampling and local search; then the candidates left, as tree jobs over any boxes with a share of the time limit,
 * and how to merge the trees' results into finishing tasks and a census.
 */
function censusSearch(
  net: Network,
  domain: Box[],
  opts: PhaseOptions,
): { roots: Box[]; treeJob: (boxes: Box[], share: number) => TreeJob; reportTree?: (open: number, boxes: number) => void; absorb: (parts: TreeResult[], roots: number) => CensusRound } {
  const t0 = Date.now();
  const rng = mulberry32(opts.seed ?? 7);
  const hidden = opts.layers ?? net.layers.slice(0, -1).map((_, k) => k);
  const result: NeuronPhase[] = [];
  const slot = new Map<number, NeuronPhase>();
  const key = (k: number, i: number): number => k * 1_000_000 + i;
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
  const n = net.inputSize;
  // 1. sampling
  const pos = new Map<number, Float64Array>();
  const neg = new Map<number, Float64Array>();
  // the sampled points closest to flipping each neuron: starts for the local search below
  const maxAt = new Map<number, { v: number; x: Float64Array }>();
  const minAt = new Map<number, { v: number; x: Float64Array }>();
  const look = (xs: Float64Array, batch: number): void => {
    const tr = forwardTrace(net, xs, batch);
    for (const np of result) {
      const kk = key(np.layer, np.index);
      if (pos.has(kk) && neg.has(kk)) continue;
      const m = net.layers[np.layer].outSize;
      const pre = tr.pre[np.layer];
      let hiV = -Infinity;
      let hiS = 0;
      let loV = Infinity;
      let loS = 0;
      for (let s = 0; s < batch; s++) {
        const v = pre[s * m + np.index];
        if (v > 0 && !pos.has(kk)) pos.set(kk, xs.slice(s * n, (s + 1) * n));
        else if (v < 0 && !neg.has(kk)) neg.set(kk, xs.slice(s * n, (s + 1) * n));
        if (v > hiV) {
          hiV = v;
          hiS = s;
        }
        if (v < loV) {
          loV = v;
          loS = s;
        }
      }
      if (!(maxAt.get(kk)?.v! >= hiV)) maxAt.set(kk, { v: hiV, x: xs.slice(hiS * n, (hiS + 1) * n) });
      if (!(minAt.get(kk)?.v! <= loV)) minAt.set(kk, { v: loV, x: xs.slice(loS * n, (loS + 1) * n) });
    }
  };
  const samples = opts.claims ? 0 : opts.samples ?? 4096;
  // the searches' boxes: the domain's, or with very many of them the hulls of groups (samples still from the boxes)
  const cover = coverDomain(domain);
  const roots = cover.boxes;
  for (const [g, b] of (opts.claims ? [] : roots).entries()) {
    look(sampleCoverBox(cover, g, samples, rng), samples);
    if (n <= 12 && !cover.merged) look(corners(b), 1 << n);
  }
  // local search toward the unseen sign, from the closest samples and the box centres; not for neurons the domain's
  // bounds already settle (on small domains most are, and the search is the costly part)
  const rootBounds = opts.claims ? [] : roots.map((b) => opts.boundsFn(net, b));
  const settledAtRoot = (k: number, i: number, wantPos: boolean): boolean =>
    rootBounds.every((b) => (wantPos ? b[k].hi[i] <= 0 : b[k].lo[i] >= 0));
  for (const np of opts.claims ? [] : result) {
    const kk = key(np.layer, np.index);
    if (pos.has(kk) && neg.has(kk)) continue;
    if (settledAtRoot(np.layer, np.index, !pos.has(kk))) continue;
    // the search only finds witnesses faster than the proof stage would; it must not eat the proof's time
    if (Date.now() - t0 > 0.3 * opts.timeoutMs) break;
    const m = net.layers[np.layer].outSize;
    const c = new Float64Array(m);
    const wantPos = !pos.has(kk);
    c[np.index] = wantPos ? 1 : -1;
    const near = (wantPos ? maxAt : minAt).get(kk);
    for (const b of roots) {
      const starts = [boxCenter(b)];
      if (near) starts.unshift(near.x);
      const r = maximizeBySearch(net, b, np.layer, c, starts);
      // on a hull: a witness only inside the domain
      if (!cover.contains(r.x)) continue;
      if (Date.now() - t0 > 0.3 * opts.timeoutMs) break;
      const z = forwardTrace(net, r.x, 1).pre[np.layer][np.index];
      if (wantPos && z > 0) pos.set(kk, r.x);
      if (!wantPos && z < 0) neg.set(kk, r.x);
    }
  }
  /** Marks a neuron 'both' once an active and an inactive witness are known (both from plain evaluation). */
  const markBoth = (np: NeuronPhase, method: string): boolean => {
    const kk = key(np.layer, np.index);
    if (!(pos.has(kk) && neg.has(kk))) return false;
    np.phase = 'both';
    np.method = method;
    np.activeWitness = pos.get(kk);
    np.inactiveWitness = neg.get(kk);
    return true;
  };
  for (const np of result) markBoth(np, 'falsified');
  // 2. shared input-splitting tree for the rest
  const cands: Cand[] = [];
  for (const np of result) {
    if (np.phase !== 'unknown') continue;
    const kk = key(np.layer, np.index);
    // seen only negative: try "never active"; seen only positive: try "always active"; neither: both in turn
    const id = cands.length;
    const claimed = claimSign.get(kk);
    if (claimed) cands.push({ id, layer: np.layer, index: np.index, sign: claimed });
    else if (!pos.has(kk)) cands.push({ id, layer: np.layer, index: np.index, sign: -1 });
    else cands.push({ id, layer: np.layer, index: np.index, sign: 1 });
  }
  // 'widest' splits are relative to the box around the whole domain; the finishing tasks continue that halving
  const hull = boxHull(domain);
  const many = manyInputs(n);
  // the tree's time limit counts from the start, sampling included
  const treeJob = (boxes: Box[], share: number): TreeJob => ({
    net,
    boxes,
    cands,
    timeoutMs: Math.max(0, opts.timeoutMs - (Date.now() - t0)) * share,
    // many inputs: the roots' bounds only (halving one input of hundreds settles nothing), with optimised slopes
    // (MNIST 10x20 over a 0.02 ball: the sum of the bounds' widths a third of CROWN's, in 0.2 s); the tasks split ReLUs
    maxBoxes: many ? boxes.length : Math.ceil((opts.maxBoxes ?? 5_000_000) * share),
    ...(opts.maxOpen !== undefined ? { maxOpen: Math.max(1, Math.floor(opts.maxOpen * share)) } : {}),
    memoryBytes: SEARCH_MEMORY_BYTES * share,
    tightenRoots: many,
    hull,
    splitRule: opts.splitRule ?? 'widest',
    backSubstitute: opts.backSubstitute !== false,
    claims: opts.claims !== undefined,
    ...(opts.boundsFn === crownBounds ? { bounds: 'crown' as const } : opts.boundsFn === symbolicBounds ? { bounds: 'symbolic' as const } : {}),
  });
  const reportTree = opts.onProgress && ((open: number, boxes: number) => opts.onProgress!(result.length - open, result.length, boxes));
  /** The trees' results merged (a witness from one part ends its candidate everywhere), and the finishing tasks. */
  const absorb = (parts: TreeResult[], roots: number): CensusRound => {
    const openLeaves = new Int32Array(cands.length);
    const dead = new Uint8Array(cands.length);
    const outside = new Set<number>();
    let boxes = 0;
    let timedOut = false;
    // why the trees stopped with candidates open: the memory or work limit if any part hit one, else the clock
    let stopped = 'timeout';
    for (const part of parts) {
      boxes += part.boxes;
      timedOut ||= part.timedOut;
      if (part.stopped === MEMORY_LIMIT || (part.stopped === BOX_LIMIT && stopped !== MEMORY_LIMIT)) stopped = part.stopped;
      for (const w of part.witnesses) {
        // evaluated where it was found; evaluated again here before it decides anything (it may come from a worker)
        const c = cands[w.id];
        const z = forwardTrace(net, w.x, 1).pre[c.layer][c.index];
        if (!claimFails(c.sign, z)) continue;
        dead[w.id] = 1;
        // on a hull, outside the domain: the claim cannot be proved on the cover, nor is it refuted
        if (!cover.contains(w.x)) {
          outside.add(w.id);
          continue;
        }
        (c.sign < 0 ? pos : neg).set(key(c.layer, c.index), w.x);
        markBoth(slot.get(key(c.layer, c.index))!, 'input-split');
      }
    }
    const leaves = parts.flatMap((part) => part.leaves.map((l) => ({ ...l, open: l.open.filter((id) => !dead[id]) })));
    for (const l of leaves) for (const id of l.open) openLeaves[id]++;
    const leavesOf = new Map<number, Array<(typeof leaves)[number]>>();
    for (const l of leaves) {
      for (const id of l.open) {
        const list = leavesOf.get(id) ?? [];
        list.push(l);
        leavesOf.set(id, list);
      }
    }
    const taskProved = new Map<number, string>();
    /** Candidates still open on some leaf, not yet proved or refuted by a task: the fewest open leaves first. */
    const stillOpen = (): Cand[] =>
      cands
        .filter((c) => !dead[c.id] && !taskProved.has(c.id) && (leavesOf.get(c.id)?.length ?? 0) > 0)
        .sort((a, b) => leavesOf.get(a.id)!.length - leavesOf.get(b.id)!.length || a.layer - b.layer || a.index - b.index);
    // One task per candidate the trees left open: branch and bound aimed at it from its open leaves, then MILP. A
    // fixed list of tasks, each with its own time limit: the verdicts do not depend on who runs them.
    const round = (list: Cand[], timeMs: number, splitShare: number, next?: () => CensusRound): CensusRound => ({
      tasks: list.map((c) => {
        const mine = leavesOf.get(c.id)!;
        // MILP on the leaves when they are few; on the whole domain near the input only (big-M from domain-wide
        // bounds is loose deeper)
        const milpBoxes = mine.length <= MAX_LEAVES ? undefined : c.layer <= 2 ? cover.boxes : [];
        return {
          net, boxes: mine.map((l) => l.box), layer: c.layer, index: c.index, sign: c.sign, timeMs, splitShare, splitScale: hull,
          ...(opts.finishMaxBoxes !== undefined ? { maxBoxes: opts.finishMaxBoxes } : {}),
          ...(mine.every((l) => l.bounds) ? { bounds: mine.map((l) => l.bounds!) } : {}),
          ...(milpBoxes ? { milpBoxes } : {}),
        };
      }),
      finish: (results) => {
        results.forEach((r, t) => {
          const c = list[t];
          if (r.status === 'proved') taskProved.set(c.id, r.method ?? 'milp');
          else if (r.status === 'refuted' && r.witness && !cover.contains(r.witness)) {
            // found on a hull outside the domain: this candidate cannot be proved on the cover, nor is it refuted
            dead[c.id] = 1;
            outside.add(c.id);
          } else if (r.status === 'refuted' && r.witness) {
            // the witness is an input: evaluated here, it refutes every open candidate with the wrong sign there, its
            // own included, whoever found it
            const pre = forwardTrace(net, r.witness, 1).pre;
            for (const d of cands) {
              if (dead[d.id] || taskProved.has(d.id) || !claimFails(d.sign, pre[d.layer][d.index])) continue;
              (d.sign < 0 ? pos : neg).set(key(d.layer, d.index), r.witness);
              dead[d.id] = 1;
            }
          }
        });
        return next ? next() : conclude();
      },
    });
    /** The full tasks: at most finishTasks of them, the time budget shared evenly unless finishTaskMs is given. */
    // with many inputs the tree only bounds the roots, mostly in a fraction of its time (MNIST 10x20 and 256x2:
    // 0.2-0.3 s of optimised slopes), so the tasks get its time too; without a time per task, half to each round
    const budget = (opts.finishBudgetMs ?? opts.timeoutMs) + (many && opts.finishBudgetMs !== undefined ? opts.timeoutMs : 0);
    const roundBudget = many ? budget / 2 : budget;
    const fullRound = (): CensusRound => {
      const open = stillOpen().slice(0, opts.finishTasks ?? 64);
      const timeMs = opts.finishTaskMs ?? Math.min(10000, Math.max(100, roundBudget / Math.max(1, open.length)));
      return round(open, timeMs, opts.finishSplitShare ?? 0.75);
    };
    const conclude = (): PhaseCensus => {
      for (const c of cands) {
        const np = slot.get(key(c.layer, c.index))!;
        if (np.phase !== 'unknown') continue;
        if (taskProved.has(c.id)) {
          np.phase = c.sign < 0 ? 'never' : 'always';
          np.method = taskProved.get(c.id)!;
          continue;
        }
        if (dead[c.id]) {
          if (markBoth(np, 'task-witness')) continue;
          if (outside.has(c.id)) {
            np.method = 'fails-outside-domain';
            continue;
          }
          // refuted in the direction we tried; the other direction was already seen refuted by sampling or is open
          np.phase = 'unknown';
          np.method = 'refuted-one-way';
          continue;
        }
        if (timedOut && openLeaves[c.id] > 0) {
          np.method = stopped;
          continue;
        }
        np.phase = c.sign < 0 ? 'never' : 'always';
        np.method = boxes > roots ? 'input-split' : 'bounds';
      }
      const counts: Record<Phase, number> = { never: 0, always: 0, both: 0, unknown: 0 };
      for (const np of result) counts[np.phase]++;
      return { neurons: result, counts, boxes, timeMs: Date.now() - t0 };
    };
    if (!timedOut || opts.finish === false) return { tasks: [], finish: conclude };
    // With many inputs ReLU splitting settles most neurons in tens of milliseconds (MNIST 256x2 over a 0.05 ball:
    // proofs and counterexamples in 4-40 ms) and leaves the rest open for seconds: first a short task for every
    // open neuron, then the full tasks for what is left.
    if (many) {
      const open = stillOpen().slice(0, QUICK_TASKS);
      return round(open, Math.min(QUICK_TASK_MS, opts.finishTaskMs ?? Math.max(QUICK_MIN_MS, roundBudget / Math.max(1, open.length))), 1, fullRound);
    }
    return fullRound();
  };
  return { roots, treeJob, reportTree, absorb };
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
export async function phaseCensusParallel(net: Network, domain: Box[], opts: PhaseOptions, workers: number): Promise<PhaseCensus> {
  // the workers start while this thread samples; the tree's halves and the finishing tasks share them
  const pool = new WorkerPool(workers);
  try {
    return await censusOnPool(net, domain, opts, pool);
  } finally {
    await pool.close();
  }
}

async function censusOnPool(net: Network, domain: Box[], opts: PhaseOptions, pool: WorkerPool): Promise<PhaseCensus> {
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
      const trees = await pool.run<TreeJob, TreeResult>(import.meta.url, 'censusTreeJob', jobs, (_, r) => {
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
    const round: CensusRound = next;
    const report = finishReporter(round.tasks, opts);
    const results = round.tasks.length ? await pool.run<NeuronTask, NeuronTaskResult>(new URL('./neuron-task.ts', import.meta.url).href, 'neuronTaskJob', round.tasks, (i) => report(round.tasks[i])) : [];
    next = round.finish(results);
  }
  return next;
}

/** One input-splitting tree of the census as plain data (so it can run on the worker pool). */
export interface TreeJob {
  net: Network;
  boxes: Box[];
  cands: Cand[];
  timeoutMs: number;
  maxBoxes: number;
  /** at most this many open boxes (default: no count; the open boxes may hold at most half of memoryBytes) */
  maxOpen?: number;
  /** the memory this tree may keep: its open boxes, and the bounds kept with the first of them */
  memoryBytes: number;
  /** the box around the whole domain: 'widest' is relative to it */
  hull: Box;
  splitRule: 'smear' | 'widest';
  backSubstitute: boolean;
  /** re-proving claims: stop early once every open claim is down to a few leaves (MILP finishes them) */
  claims: boolean;
  /** the bounds, by name, in a worker (functions do not cross threads) */
  bounds?: 'crown' | 'symbolic';
  /** tighten the roots' bounds with optimised slopes until the time limit (many inputs: the roots are the tree) */
  tightenRoots?: boolean;
}

export interface TreeResult {
  boxes: number;
  /** stopped with candidates open (out of time, memory or work) */
  timedOut: boolean;
  /** why: 'timeout', MEMORY_LIMIT or BOX_LIMIT */
  stopped?: string;
  /** inputs where a candidate's claim fails (plain evaluation): it is 'both' */
  witnesses: Array<{ id: number; x: Float64Array }>;
  /** the open leaves when time ran out, the candidates open on each (ids) and their bounds when kept */
  leaves: Array<{ box: Box; open: number[]; bounds?: NetworkBounds }>;
}

/**
 * The shared tree: every leaf box carries the candidates still open on it; sound bounds on the leaf settle most of
 * them, the leaf centre may refute some (globally), and the leaf is split while candidates stay open.
 */
function runTree(job: TreeJob, boundsFn: BoundsFn, onProgress?: (open: number, boxes: number) => void): TreeResult {
  const t0 = Date.now();
  const { net, cands } = job;
  const n = net.inputSize;
  const openLeaves = new Int32Array(cands.length); // leaves on which the candidate is still open
  const dead = new Uint8Array(cands.length); // refuted somewhere: stop working on it
  const witnesses: TreeResult['witnesses'] = [];
  let boxes = 0;
  const heap = new MaxHeap<{ box: Box; open: Cand[]; gaps: number[]; depth: number; bounds?: NetworkBounds }>();
  // crownBounds already back-substitutes every unstable neuron: a second pass per candidate would repeat it
  const backSub = job.backSubstitute && boundsFn !== crownBounds;
  const splitRule = job.splitRule;
  const hull = job.hull;
  const coef = new Float64Array(n);
  type Settled = { rest: Cand[]; gaps: number[]; excess: number; bounds: NetworkBounds };
  // a box's bounds are needed only up to the deepest candidate still open on it: the network cut there is cheaper
  // to bound (boxes where only shallow neurons are open cost a fraction of a full pass)
  const cut = net.layers.map((_, k) => ({ inputSize: net.inputSize, layers: net.layers.slice(0, k + 1) }));
  const settle = (box: Box, open: Cand[], parent?: NetworkBounds, tightenUntil?: number): Settled => {
    boxes++;
    let deepest = 0;
    for (const c of open) if (!dead[c.id] && c.layer > deepest) deepest = c.layer;
    let b = boundsFn(cut[deepest], box, parent);
    if (tightenUntil !== undefined) b = alphaCrownBounds(cut[deepest], box, b, 8, tightenUntil);
    const rest: Cand[] = [];
    const gaps: number[] = [];
    let excess = 0;
    for (const c of open) {
      if (dead[c.id]) continue;
      let lo = b[c.layer].lo[c.index];
      let hi = b[c.layer].hi[c.index];
      if (c.sign < 0 ? hi <= 0 : lo >= 0) continue;
      // back-substitution for this one neuron: tighter than forward bounds on deep layers, and cheap
      if (c.layer > 0 && backSub) {
        const e = unit(net.layers[c.layer].outSize, c.index);
        const r = backwardBound(net, box, b, c.layer, e, 0, c.sign < 0 ? 'upper' : 'lower');
        lo = Math.max(lo, r.lo);
        hi = Math.min(hi, r.hi);
        if (c.sign < 0 ? hi <= 0 : lo >= 0) continue;
      }
      // how far the bound is from settling it, relative to the neuron's range: guides the choice of split. (No
      // optimised slopes here: with the widest split the boxes they would close cost less to split; 45 ACAS Xu
      // networks, 3 s + 1 s tasks: 389 unknown with them for candidates within a fifth of settled, 381 without.)
      const gap = c.sign < 0 ? hi / (hi - lo + 1e-300) : -lo / (hi - lo + 1e-300);
      excess += gap;
      gaps.push(gap);
      rest.push(c);
    }
    return { rest, gaps, excess, bounds: b };
  };
  /**
   * Which input matters most for the open candidates furthest from settled: |coefficient| x width of their linear
   * bounds (ReluVal's "smear"), summed over the worst few; splitting there shrinks their bounds fastest. Computed
   * when a box is split, not when it is bounded (most bounded boxes are never split).
   */
  const smear = (box: Box, b: NetworkBounds, rest: Cand[], gaps: number[]): Float64Array => {
    const dimScore = new Float64Array(n);
    const order = rest.map((_, i) => i).sort((a, z) => gaps[z] - gaps[a]).slice(0, 3);
    for (const i of order) {
      const c = rest[i];
      if (c.layer === 0) {
        for (let t = 0; t < n; t++) coef[t] = net.layers[0].weights[c.index * n + t];
      } else {
        backwardBound(net, box, b, c.layer, unit(net.layers[c.layer].outSize, c.index), 0, c.sign < 0 ? 'upper' : 'lower', coef);
      }
      let tot = 0;
      for (let t = 0; t < n; t++) tot += Math.abs(coef[t]) * (box.hi[t] - box.lo[t]);
      if (!(tot > 0)) continue;
      for (let t = 0; t < n; t++) dimScore[t] += (gaps[i] * Math.abs(coef[t]) * (box.hi[t] - box.lo[t])) / tot;
    }
    return dimScore;
  };
  const refuteAt = (x: Float64Array, open: Cand[]): void => {
    const tr = forwardTrace(net, x, 1);
    for (const c of open) {
      if (dead[c.id]) continue;
      if (claimFails(c.sign, tr.pre[c.layer][c.index])) {
        witnesses.push({ id: c.id, x: x.slice() });
        dead[c.id] = 1;
      }
    }
  };
  const push = (box: Box, r: Settled, depth: number): void => {
    const open = r.rest;
    if (open.length === 0) return;
    for (const c of open) openLeaves[c.id]++;
    held += boxHolds(open.length);
    // the children start from these bounds (sound on every sub-box); past a large frontier, memory comes first
    const bounds = heap.size < keepBounds ? heldBounds(r.bounds) : undefined;
    heap.push(open.length - depth * 1e-3, { box, open, gaps: r.gaps, depth, bounds });
  };
  // half the memory for the bounds kept with the first open boxes (at most 20,000 of them), half for the boxes: a
  // box holds its corners and the candidates open on it with their gaps; `held` counts what the open boxes hold
  const keepBounds = Math.min(20_000, openCap(boundsBytes(net), job.memoryBytes / 2));
  const boxHolds = (open: number): number => boxBytes(n) + 16 * open + 64;
  const maxOpen = job.maxOpen ?? Infinity;
  let held = 0;
  const full = (): boolean => heap.size > maxOpen || held > job.memoryBytes / 2;
  job.boxes.forEach((b, i) => push(b, settle(b, cands, undefined, job.tightenRoots ? t0 + (job.timeoutMs * (i + 1)) / job.boxes.length : undefined), 0));
  const maxBoxes = job.maxBoxes;
  // input splitting gets the whole time limit; the MILP tasks after it have limits of their own
  let timedOut = false;
  let stopped: string | undefined;
  let nextReport = 64;
  let nextStallCheck = 256;
  while (heap.size > 0) {
    if (Date.now() - t0 > job.timeoutMs || boxes >= maxBoxes || full()) {
      timedOut = true;
      stopped = full() ? MEMORY_LIMIT : boxes >= maxBoxes ? BOX_LIMIT : 'timeout';
      break;
    }
    // re-proving claims: once every open claim is down to a few leaf boxes, MILP there is quicker than more splits
    // (the census got its MILP facts the same way)
    if (job.claims && boxes >= nextStallCheck) {
      nextStallCheck = boxes + 256;
      let ready = true;
      for (let i = 0; i < cands.length && ready; i++) if (!dead[i] && openLeaves[i] > MAX_LEAVES / 2 && cands[i].layer > 2) ready = false;
      if (ready && Date.now() - t0 > 0.2 * job.timeoutMs) {
        timedOut = true;
        break;
      }
    }
    const node = heap.pop()!;
    for (const c of node.open) openLeaves[c.id]--;
    held -= boxHolds(node.open.length);
    const open = node.open.filter((c) => !dead[c.id]);
    if (open.length === 0) continue;
    refuteAt(boxCenter(node.box), open);
    const still = open.filter((c) => !dead[c.id]);
    if (still.length === 0) continue;
    let dim = -1;
    if (splitRule === 'smear') {
      const gaps = node.open.map((c, i) => (dead[c.id] ? -1 : node.gaps[i])).filter((g) => g >= 0);
      const dimScore = smear(node.box, node.bounds ?? boundsFn(net, node.box), still, gaps);
      for (let t = 0; t < n; t++) if (node.box.hi[t] > node.box.lo[t] && (dim < 0 || dimScore[t] > dimScore[dim])) dim = t;
      if (dim >= 0 && !(dimScore[dim] > 0)) dim = -1;
    }
    if (dim >= 0) {
      for (const ch of splitBox(node.box, dim)) push(ch, settle(ch, still, node.bounds), node.depth + 1);
    } else {
      const seen = new Map<Box, Settled>();
      const { children } = chooseSplit(
        node.box,
        hull,
        (bx) => {
          const r = settle(bx, still, node.bounds);
          seen.set(bx, r);
          return r.rest.length + r.excess;
        },
        'widest',
      );
      for (const ch of children) push(ch, seen.get(ch) ?? settle(ch, still, node.bounds), node.depth + 1);
    }
    if (onProgress && boxes >= nextReport) {
      nextReport = boxes + 64;
      let open2 = 0;
      for (let i = 0; i < cands.length; i++) if (!dead[i] && openLeaves[i] > 0) open2++;
      onProgress(open2, boxes);
    }
  }
  // what is left open: the leaves, with the candidates still open on each
  const leaves: TreeResult['leaves'] = [];
  if (timedOut) {
    for (const node of heap.drain()) {
      const open = node.open.filter((c) => !dead[c.id]).map((c) => c.id);
      if (open.length) leaves.push({ box: node.box, open, ...(node.bounds ? { bounds: node.bounds } : {}) });
    }
  }
  return { boxes, timedOut, ...(stopped ? { stopped } : {}), witnesses, leaves };
}

/** The pool's entry point for one tree (bounds by name). */
export function censusTreeJob(job: TreeJob): TreeResult {
  return runTree(job, job.bounds === 'symbolic' ? symbolicBounds : crownBounds);
}

/** How many parts the parallel census cuts its tree into (a fixed number: the verdicts do not depend on the workers). */
const TREE_PARTS = 2;

/** The domain as TREE_PARTS parts: its boxes dealt out in turn, or one box halved along its widest input. */
function domainParts(domain: Box[], hull: Box): Box[][] {
  if (domain.length >= TREE_PARTS) return Array.from({ length: TREE_PARTS }, (_, p) => domain.filter((_, i) => i % TREE_PARTS === p));
  return splitBox(domain[0], widestInput(domain[0], hull)).map((b) => [b]);
}

/** The unit vector e_i of length n, cached (objectives of one neuron's bound, built once per neuron). */
const units = new Map<string, Float64Array>();
function unit(n: number, i: number): Float64Array {
  const k = `${n}:${i}`;
  let u = units.get(k);
  if (!u) {
    u = new Float64Array(n);
    u[i] = 1;
    units.set(k, u);
  }
  return u;
}

/** All 2^n corners of a box, row-major. */
function corners(box: Box): Float64Array {
  const n = box.lo.length;
  const count = 1 << n;
  const out = new Float64Array(count * n);
  for (let s = 0; s < count; s++) for (let i = 0; i < n; i++) out[s * n + i] = (s >> i) & 1 ? box.hi[i] : box.lo[i];
  return out;
}
