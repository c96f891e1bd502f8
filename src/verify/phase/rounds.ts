/**
 * After the census's tree: its results merged (a witness from one part ends its candidate everywhere), the rounds of
 * finishing tasks for the candidates it left open (one task each: branch and bound aimed at the neuron from its open
 * leaves, then MILP; a fixed list, each task with its own time limit, so the verdicts do not depend on who runs
 * them), and the census concluded from it all.
 */
import { forwardTrace, type Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { DomainCover } from '../search/cover.ts';
import { BOX_LIMIT, MEMORY_LIMIT } from '../search/limits.ts';
import { claimFails, type NeuronTask, type NeuronTaskResult } from './neuron-task.ts';
import type { PhaseWitnesses } from './witnesses.ts';
import { MAX_LEAVES, neuronKey as key, type Cand, type NeuronPhase, type Phase, type PhaseCensus, type PhaseOptions, type TreeResult } from './types.ts';

/** A round of finishing tasks, and what follows from their results: the census, or a further round. */
export interface CensusRound {
  tasks: NeuronTask[];
  finish: (results: NeuronTaskResult[]) => PhaseCensus | CensusRound;
}

/** What the census knows when its tree is done: the neurons, their candidates, the witnesses, the domain. */
export interface CensusState {
  net: Network;
  opts: PhaseOptions;
  t0: number;
  result: NeuronPhase[];
  slot: Map<number, NeuronPhase>;
  cands: Cand[];
  witnesses: PhaseWitnesses;
  cover: DomainCover;
  hull: Box;
  many: boolean;
}

/** With many inputs: a first round of short tasks, for at most this many open neurons. */
const QUICK_TASKS = 4096;
// 0.1 s against 0.25 s (MNIST 256x4 over a 0.05 ball, about 650 open neurons): 469 unknown against 455, in 78 s
// against 120 s
const QUICK_TASK_MS = 100;
const QUICK_MIN_MS = 25;

type Leaf = TreeResult['leaves'][number];

/** The trees' results merged, and the finishing tasks (roots: how many boxes the trees started from). */
export function absorbTrees(st: CensusState, parts: TreeResult[], roots: number): CensusRound {
  return new CensusRounds(st, parts, roots).first();
}

class CensusRounds {
  private readonly openLeaves: Int32Array;
  private readonly dead: Uint8Array;
  /** refuted only outside the domain (on a hull): neither provable on the cover nor refuted */
  private readonly outside = new Set<number>();
  private boxes = 0;
  private timedOut = false;
  /** why the trees stopped with candidates open: the memory or work limit if any part hit one, else the clock */
  private stopped = 'timeout';
  private readonly leavesOf = new Map<number, Leaf[]>();
  private readonly taskProved = new Map<number, string>();
  private readonly roundBudget: number;

  constructor(
    private readonly st: CensusState,
    parts: TreeResult[],
    private readonly roots: number,
  ) {
    const { cands, opts, many } = st;
    this.openLeaves = new Int32Array(cands.length);
    this.dead = new Uint8Array(cands.length);
    for (const part of parts) this.absorbPart(part);
    const leaves = parts.flatMap((part) => part.leaves.map((l) => ({ ...l, open: l.open.filter((id) => !this.dead[id]) })));
    for (const l of leaves) for (const id of l.open) this.openLeaves[id]++;
    for (const l of leaves) {
      for (const id of l.open) {
        const list = this.leavesOf.get(id) ?? [];
        list.push(l);
        this.leavesOf.set(id, list);
      }
    }
    // with many inputs the tree only bounds the roots, mostly in a fraction of its time (MNIST 10x20 and 256x2:
    // 0.2-0.3 s of optimised slopes), so the tasks get its time too; without a time per task, half to each round
    const budget = (opts.finishBudgetMs ?? opts.timeoutMs) + (many && opts.finishBudgetMs !== undefined ? opts.timeoutMs : 0);
    this.roundBudget = many ? budget / 2 : budget;
  }

  private absorbPart(part: TreeResult): void {
    const { net, cands, cover, witnesses, slot } = this.st;
    this.boxes += part.boxes;
    this.timedOut ||= part.timedOut;
    if (part.stopped === MEMORY_LIMIT || (part.stopped === BOX_LIMIT && this.stopped !== MEMORY_LIMIT)) this.stopped = part.stopped;
    for (const w of part.witnesses) {
      // evaluated where it was found; evaluated again here before it decides anything (it may come from a worker)
      const c = cands[w.id];
      const z = forwardTrace(net, w.x, 1).pre[c.layer][c.index];
      if (!claimFails(c.sign, z)) continue;
      this.dead[w.id] = 1;
      // on a hull, outside the domain: the claim cannot be proved on the cover, nor is it refuted
      if (!cover.contains(w.x)) {
        this.outside.add(w.id);
        continue;
      }
      witnesses.refutes(c.layer, c.index, c.sign, w.x);
      witnesses.markBoth(slot.get(key(c.layer, c.index))!, 'input-split');
    }
  }

  /** No tasks when the trees closed everything (or finishing is off); with many inputs ReLU splitting settles most
   * neurons in tens of milliseconds (MNIST 256x2 over a 0.05 ball: proofs and counterexamples in 4-40 ms) and leaves
   * the rest open for seconds: first a short task for every open neuron, then the full tasks for what is left. */
  first(): CensusRound {
    const { opts, many } = this.st;
    if (!this.timedOut || opts.finish === false) return { tasks: [], finish: () => this.conclude() };
    if (many) {
      const open = this.stillOpen().slice(0, QUICK_TASKS);
      return this.round(open, Math.min(QUICK_TASK_MS, opts.finishTaskMs ?? Math.max(QUICK_MIN_MS, this.roundBudget / Math.max(1, open.length))), 1, () => this.fullRound());
    }
    return this.fullRound();
  }

  /** The full tasks: at most finishTasks of them, the time budget shared evenly unless finishTaskMs is given. */
  private fullRound(): CensusRound {
    const { opts } = this.st;
    const open = this.stillOpen().slice(0, opts.finishTasks ?? 64);
    const timeMs = opts.finishTaskMs ?? Math.min(10000, Math.max(100, this.roundBudget / Math.max(1, open.length)));
    return this.round(open, timeMs, opts.finishSplitShare ?? 0.75);
  }

  /** Candidates still open on some leaf, not yet proved or refuted by a task: the fewest open leaves first. */
  private stillOpen(): Cand[] {
    const { leavesOf } = this;
    return this.st.cands
      .filter((c) => !this.dead[c.id] && !this.taskProved.has(c.id) && (leavesOf.get(c.id)?.length ?? 0) > 0)
      .sort((a, b) => leavesOf.get(a.id)!.length - leavesOf.get(b.id)!.length || a.layer - b.layer || a.index - b.index);
  }

  private round(list: Cand[], timeMs: number, splitShare: number, next?: () => CensusRound): CensusRound {
    return {
      tasks: list.map((c) => this.task(c, timeMs, splitShare)),
      finish: (results) => {
        results.forEach((r, t) => this.absorbTask(list[t], r));
        return next ? next() : this.conclude();
      },
    };
  }

  private task(c: Cand, timeMs: number, splitShare: number): NeuronTask {
    const { net, cover, hull, opts } = this.st;
    const mine = this.leavesOf.get(c.id)!;
    // MILP on the leaves when they are few; on the whole domain near the input only (big-M from domain-wide
    // bounds is loose deeper)
    const milpBoxes = mine.length <= MAX_LEAVES ? undefined : c.layer <= 2 ? cover.boxes : [];
    return {
      net, boxes: mine.map((l) => l.box), layer: c.layer, index: c.index, sign: c.sign, timeMs, splitShare, splitScale: hull,
      ...(opts.finishMaxBoxes !== undefined ? { maxBoxes: opts.finishMaxBoxes } : {}),
      ...(mine.every((l) => l.bounds) ? { bounds: mine.map((l) => l.bounds!) } : {}),
      ...(milpBoxes ? { milpBoxes } : {}),
    };
  }

  private absorbTask(c: Cand, r: NeuronTaskResult): void {
    const { net, cands, cover, witnesses } = this.st;
    const { dead } = this;
    if (r.status === 'proved') this.taskProved.set(c.id, r.method ?? 'milp');
    else if (r.status === 'refuted' && r.witness && !cover.contains(r.witness)) {
      // found on a hull outside the domain: this candidate cannot be proved on the cover, nor is it refuted
      dead[c.id] = 1;
      this.outside.add(c.id);
    } else if (r.status === 'refuted' && r.witness) {
      // the witness is an input: evaluated here, it refutes every open candidate with the wrong sign there, its
      // own included, whoever found it
      const pre = forwardTrace(net, r.witness, 1).pre;
      for (const d of cands) {
        if (dead[d.id] || this.taskProved.has(d.id) || !claimFails(d.sign, pre[d.layer][d.index])) continue;
        witnesses.refutes(d.layer, d.index, d.sign, r.witness);
        dead[d.id] = 1;
      }
    }
  }

  private conclude(): PhaseCensus {
    const { cands, slot, result, t0 } = this.st;
    for (const c of cands) {
      const np = slot.get(key(c.layer, c.index))!;
      if (np.phase === 'unknown') this.decide(c, np);
    }
    const counts: Record<Phase, number> = { never: 0, always: 0, both: 0, unknown: 0 };
    for (const np of result) counts[np.phase]++;
    return { neurons: result, counts, boxes: this.boxes, timeMs: Date.now() - t0 };
  }

  /** An open candidate's verdict: proved by a task, refuted (both, or one way), stopped open, or proved by the tree. */
  private decide(c: Cand, np: NeuronPhase): void {
    if (this.taskProved.has(c.id)) {
      np.phase = c.sign < 0 ? 'never' : 'always';
      np.method = this.taskProved.get(c.id)!;
      return;
    }
    if (this.dead[c.id]) {
      if (this.st.witnesses.markBoth(np, 'task-witness')) return;
      if (this.outside.has(c.id)) {
        np.method = 'fails-outside-domain';
        return;
      }
      // refuted in the direction we tried; the other direction was already seen refuted by sampling or is open
      np.phase = 'unknown';
      np.method = 'refuted-one-way';
      return;
    }
    if (this.timedOut && this.openLeaves[c.id] > 0) {
      np.method = this.stopped;
      return;
    }
    np.phase = c.sign < 0 ? 'never' : 'always';
    np.method = this.boxes > this.roots ? 'input-split' : 'bounds';
  }
}
