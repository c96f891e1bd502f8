/**
 * The prune pipeline: Network x Domain x Tolerance -> smaller Network + the steps that license it.
 *   1. phase census on the original: never active -> removed, always active -> linear (exact, each a proof);
 *   2. exact merges of proportional neurons;
 *   3. with a tolerance: greedy removal / linearisation in batches, each batch kept only if the END-TO-END
 *      bound against the original f is proved (a verifier that runs out of time rejects the batch);
 *   4. compaction (drop neurons with no outgoing weight) and the final, fresh end-to-end check (final-check.ts).
 * Every change is licensed by a `proved` verdict; nothing unknown is ever removed.
 */
import { forwardTrace, outputSize, sizeMetrics, type Network, type SizeMetrics } from '../model/network.ts';
import { samplePoints, type Box } from '../model/box.ts';
import { mulberry32 } from '../model/rng.ts';
import type { NetworkBounds } from '../bounds/types.ts';
import { phaseCensus, type PhaseCensus, type PhaseOptions } from '../verify/phase/phase.ts';
import { checkClass, checkLinf, withPhaseFacts, type BoundsFn, type OutputLinearLower } from '../verify/equiv/equiv.ts';
import { phaseFacts } from './final-check.ts';
import { provedClassMargins } from '../verify/equiv/class-margins.ts';
import { provedUniqueWinner } from '../verify/equiv/class-relu-split.ts';
import { manyInputs } from '../verify/search/split.ts';
import { coverDomain } from '../verify/search/cover.ts';
import type { Tolerance } from '../verify/tolerance.ts';
import type { Verdict } from '../verify/verdict.ts';
import { AFFINE, KEEP, LINEAR, MERGED, REMOVED, applyEdits, cloneEdits, emptyEdits, type Edits } from './edits.ts';
import { findProportionalNeurons } from './merge.ts';
import { neuronSensitivity } from './sensitivity.ts';
import { compact, type NeuronMap } from './compact.ts';
import { foldLinearLayers } from './fold.ts';
import { reduceLinearBasis } from './basis.ts';

export interface Step {
  kind: 'never-active' | 'always-active' | 'merge' | 'tolerance-remove' | 'tolerance-linearise' | 'tolerance-merge' | 'linear-basis';
  layer: number;
  neuron: number;
  /**
   * 1: a phase fact of the network AFTER the tolerance changes (not of the original): it leaves that network's
   * values unchanged, and the final check re-proves it on that network
   */
  stage?: 1;
  /** for merges: the neuron that absorbed this one, and the factor */
  into?: number;
  alpha?: number;
  verdict: { status: Verdict['status']; method: string; timeMs: number; note?: string };
}

export interface PruneProgress {
  phase: string;
  done: number;
  total: number;
  removed: number;
  /** anything else worth showing (boxes searched, ...) */
  extra?: string;
  /** an upper bound on the time this phase has left, when it is time-limited */
  leftS?: number;
}

export interface PruneOptions {
  domain: Box[];
  tolerance: Tolerance;
  boundsFn: BoundsFn;
  outputLinearLower?: OutputLinearLower;
  /** time limit of one verification query (phase census, one tolerance batch) */
  queryTimeoutMs: number;
  /** overall time limit of the tolerance search (default: 20 x queryTimeoutMs) */
  toleranceBudgetMs?: number;
  seed?: number;
  onProgress?: (p: PruneProgress) => void;
  /** a phase census of f on this domain made beforehand (for example on a worker pool); made here if absent */
  census?: PhaseCensus;
  /** the census's finishing tasks (input splitting, then MILP, per neuron the shared tree left open): at most this
   * many (default 64), each with this time limit (default: the finishing budget shared among them) */
  finishTasks?: number;
  finishTaskMs?: number;
  /** change nothing (the fallback of a slice whose pruned network failed its final check): f, checked as usual */
  keepEverything?: boolean;
  /** a work limit (boxes bounded) of every search: the census's tree, each of its finishing tasks, each tolerance
   * query; with generous time limits the result is then the same on any machine (default: the searches' own) */
  maxBoxes?: number;
  /** prunePaused: awaited between two tolerance queries once PAUSE_MS of work has passed since the last, so the
   * event loop turns (a timer's abort fires there); it may throw to end the prune (the library's AbortSignal) */
  pause?: () => Promise<void>;
}

/** The census prune makes for itself: 3 x the query limit for the shared tree, as much for the finishing tasks. */
export function censusOptions(opts: PruneOptions): PhaseOptions {
  const progress = opts.onProgress ?? (() => {});
  // the shared tree, then the tasks finishing what it left open (on the pool with --jobs)
  const treeMs = opts.queryTimeoutMs * 3;
  const finishMs = opts.queryTimeoutMs * 3;
  const t0 = Date.now();
  return {
    boundsFn: opts.boundsFn,
    timeoutMs: treeMs,
    finishBudgetMs: finishMs,
    seed: opts.seed,
    finishTasks: opts.finishTasks,
    finishTaskMs: opts.finishTaskMs,
    ...(opts.maxBoxes !== undefined ? { maxBoxes: opts.maxBoxes, finishMaxBoxes: opts.maxBoxes } : {}),
    ...(opts.pause ? { pause: opts.pause } : {}),
    onProgress: (d, t, boxes) =>
      progress({ phase: 'phase census (neurons decided)', done: d, total: t, removed: 0, extra: `${boxes} boxes`, leftS: (treeMs + finishMs - (Date.now() - t0)) / 1000 }),
    onFinishProgress: (d, t, leftMs) => progress({ phase: 'phase census (finishing open neurons)', done: d, total: t, removed: 0, leftS: leftMs / 1000 }),
  };
}

export interface PruneResult {
  original: Network;
  /** aligned with the original (same shapes) */
  aligned: Network;
  edits: Edits;
  /** the result: compacted, linear layers folded */
  network: Network;
  map: NeuronMap;
  /** groups[i]: the compacted layers that result layer i stands for */
  groups: number[][];
  /** the result before folding linear layers (and before the basis reduction) */
  compactNetwork: Network;
  /** whether linear neurons were reduced to a basis before folding (the final check re-derives the reduction) */
  basisReduced: boolean;
  census: PhaseCensus;
  steps: Step[];
  before: SizeMetrics;
  after: SizeMetrics;
  /** what the tolerance search tried and proved (epsilon and class modes) */
  toleranceSearch?: ToleranceSearchStats;
  /** always-active neurons kept as ReLUs because the output format stores linear ones at a higher cost */
  keptAsRelu?: number;
  /** changes within the tolerance (and the phase facts that followed them) undone because the final check could
   * not re-prove them: the result is the exact one */
  toleranceDropped?: number;
}

export interface ToleranceSearchStats {
  /** candidate changes (remove, linearise or merge one neuron; several per neuron) */
  candidates: number;
  /** equivalence queries run (each a batch of changes) and how many were proved */
  queries: number;
  provedQueries: number;
  /** queries with a re-checked counterexample (the batch really exceeds the tolerance); the rest were undecided
   * (out of time, or of boxes with many inputs) */
  refutedQueries: number;
  /** changes kept */
  accepted: number;
  timeMs: number;
  budgetMs: number;
  /** 'budget': time ran out with candidates left; 'done': every candidate was tried; 'no-winner': not run (class
   * mode, many inputs, and the original's winner not proved the same on the whole domain) */
  ended: 'budget' | 'done' | 'no-winner';
}

/** The least work between two pauses of prunePaused: a timer's abort is seen within this, or one query, of firing. */
const PAUSE_MS = 50;

/** The prune in this thread, synchronously (without pauses). */
export function prune(f: Network, opts: PruneOptions): PruneResult {
  const run = pruneSteps(f, opts);
  let s = run.next();
  while (!s.done) s = run.next();
  return s.value;
}

/** The prune with `opts.pause` awaited between tolerance queries, at most every PAUSE_MS: the same result. */
export async function prunePaused(f: Network, opts: PruneOptions): Promise<PruneResult> {
  const run = pruneSteps(f, opts);
  let last = Date.now();
  let s = run.next();
  while (!s.done) {
    if (opts.pause && Date.now() - last >= PAUSE_MS) {
      await opts.pause();
      last = Date.now();
    }
    s = run.next();
  }
  return s.value;
}

/** The prune as a generator: it yields where it may pause (between two tolerance queries). */
function* pruneSteps(f: Network, opts: PruneOptions): Generator<void, PruneResult, void> {
  const progress = opts.onProgress ?? (() => {});
  const steps: Step[] = [];
  const edits = emptyEdits(f);
  progress({ phase: 'phase census', done: 0, total: 1, removed: 0 });
  const census = opts.keepEverything ? unknownCensus(f) : opts.census ?? phaseCensus(f, opts.domain, censusOptions(opts));
  if (opts.keepEverything) return { ...assemble(f, edits, steps), census };
  for (const np of census.neurons) {
    if (np.phase === 'never' || np.phase === 'always') {
      edits.state[np.layer][np.index] = np.phase === 'never' ? REMOVED : LINEAR;
      steps.push({
        kind: np.phase === 'never' ? 'never-active' : 'always-active',
        layer: np.layer,
        neuron: np.index,
        verdict: { status: 'proved', method: np.method, timeMs: 0 },
      });
    }
  }
  // exact merges among neurons that are still there and of the same kind
  const merges = findProportionalNeurons(f, (k, j) => {
    const s = edits.state[k][j];
    return s === KEEP || s === LINEAR;
  });
  for (const m of merges) {
    if (edits.state[m.layer][m.from] !== edits.state[m.layer][m.into]) continue;
    edits.state[m.layer][m.from] = MERGED;
    edits.mergeInto[m.layer][m.from] = m.into;
    edits.mergeFactor[m.layer][m.from] = m.alpha;
    steps.push({
      kind: 'merge',
      layer: m.layer,
      neuron: m.from,
      into: m.into,
      alpha: m.alpha,
      verdict: { status: 'proved', method: 'proportional-rows', timeMs: 0, note: 'checked end to end by the final check' },
    });
  }
  let toleranceSearchStats: ToleranceSearchStats | undefined;
  if (opts.tolerance.kind !== 'exact') {
    toleranceSearchStats = yield* toleranceSearch(f, edits, steps, opts);
    if (steps.some((s) => s.kind.startsWith('tolerance'))) phaseAfterChanges(f, edits, steps, opts);
  }
  return { ...assemble(f, edits, steps), census, toleranceSearch: toleranceSearchStats };
}

/** A census that decides nothing (every hidden ReLU 'unknown'). */
function unknownCensus(f: Network): PhaseCensus {
  const neurons = f.layers.slice(0, -1).flatMap((L, k) => Array.from({ length: L.outSize }, (_, i) => ({ layer: k, index: i, phase: 'unknown' as const, method: 'not run' })));
  return { neurons, counts: { never: 0, always: 0, both: 0, unknown: neurons.length }, boxes: 0, timeMs: 0 };
}

/**
 * From edits to the network to write: apply, compact, reduce linear neurons to a basis, fold linear layers
 * (whichever representation is smaller). Appends the basis steps to `steps`.
 */
export function assemble(f: Network, edits: Edits, steps: Step[]): Omit<PruneResult, 'census' | 'toleranceSearch'> {
  const aligned = applyEdits(f, edits).g;
  const { net: compactNet, map } = compact(aligned);
  const reduced = reduceLinearBasis(compactNet);
  const plain = foldLinearLayers(compactNet);
  const viaBasis = reduced.steps.length ? foldLinearLayers(reduced.net) : null;
  const useBasis = viaBasis !== null && sizeMetrics(viaBasis.net).parameters < sizeMetrics(plain.net).parameters;
  const { net, groups } = useBasis ? viaBasis : plain;
  if (useBasis) {
    for (const s of reduced.steps) {
      const fIndex = (i: number): number => map.kept[s.layer][i];
      for (const d of s.dependent) {
        steps.push({
          kind: 'linear-basis',
          layer: s.layer,
          neuron: fIndex(d),
          verdict: {
            status: 'proved',
            method: 'linear-basis',
            timeMs: 0,
            note: `linear, re-expressed on linear neurons ${s.basis.map(fIndex).join(', ')} of its layer (rounding bounded by the final check)`,
          },
        });
      }
    }
  }
  return {
    groups,
    basisReduced: useBasis,
    compactNetwork: compactNet,
    original: f,
    aligned,
    edits,
    network: net,
    map,
    steps,
    before: sizeMetrics(f),
    after: sizeMetrics(net),
  };
}

/**
 * The fixpoint step: removing or linearising neurons within the tolerance changes the values downstream, so other
 * neurons may now be stable. A census of the changed network g finds them; removing (linearising) them leaves g's
 * values exactly as they are, so the end-to-end bound proved for g still holds. (Values are unchanged by these
 * facts, so a second census would find nothing new: one round reaches the fixpoint for phases.)
 */
function phaseAfterChanges(f: Network, edits: Edits, steps: Step[], opts: PruneOptions): void {
  const g = applyEdits(f, edits).g;
  opts.onProgress?.({ phase: 'phase census after the tolerance changes', done: 0, total: 1, removed: 0 });
  const c = phaseCensus(g, opts.domain, { ...censusOptions(opts), onProgress: undefined });
  for (const np of c.neurons) {
    if (np.phase !== 'never' && np.phase !== 'always') continue;
    if (edits.state[np.layer][np.index] !== KEEP || !f.layers[np.layer].relu[np.index]) continue;
    edits.state[np.layer][np.index] = np.phase === 'never' ? REMOVED : LINEAR;
    steps.push({
      kind: np.phase === 'never' ? 'never-active' : 'always-active',
      stage: 1,
      layer: np.layer,
      neuron: np.index,
      verdict: { status: 'proved', method: np.method, timeMs: 0, note: 'on the network after the tolerance changes' },
    });
  }
}

interface Candidate {
  layer: number;
  neuron: number;
  kind: 'remove' | 'linearise' | 'merge';
  /** merge: the neuron that absorbs this one, and the factor */
  into?: number;
  /** estimated output effect, for ordering only */
  estimate: number;
  s: number;
  c: number;
}

/** f's bounds on the whole domain (for chords and error estimates): the hull over the domain's boxes (over the hulls
 * of groups of them when there are very many, cover.ts). */
function domainBounds(f: Network, boxes: Box[], fn: BoundsFn): NetworkBounds {
  const all = coverDomain(boxes).boxes.map((b) => fn(f, b));
  const out = all[0].map((lb) => ({ lo: lb.lo.slice(), hi: lb.hi.slice() }));
  for (const a of all) {
    out.forEach((o, k) => {
      for (let i = 0; i < o.lo.length; i++) {
        o.lo[i] = Math.min(o.lo[i], a[k].lo[i]);
        o.hi[i] = Math.max(o.hi[i], a[k].hi[i]);
      }
    });
  }
  return out;
}

/** A tolerance query's limit: at least this, else QUERY_SLACK times the slowest proof so far (see tryEdits). */
const QUERY_FLOOR_MS = 500;
const QUERY_SLACK = 4;

/**
 * Greedy tolerance search. Candidates are ordered by estimated effect and tried in batches; a batch that cannot be
 * proved is halved, down to single candidates, and a single one that fails is dropped.
 */
function* toleranceSearch(f: Network, edits: Edits, steps: Step[], opts: PruneOptions): Generator<void, ToleranceSearchStats, void> {
  const tol = opts.tolerance;
  // the census's phase facts tighten f's bounds on every box: without them a neuron it proved never active by
  // ReLU splitting keeps CROWN's positive upper bound, and the difference bounds charge its removal to every query
  // (MNIST 256x2 prop_1_0.03, epsilon 0.5: 0 of 76 queries proved)
  opts = { ...opts, boundsFn: withPhaseFacts(opts.boundsFn, f, phaseFacts(edits, steps)) };
  // class mode: f's own margins, proved once (MILP if need be; not charged to the search budget; with many inputs
  // at most twice the query limit for all), let every check below start from them
  const margins =
    tol.kind === 'class' && opts.outputLinearLower
      ? provedClassMargins(f, opts.domain, tol.order, { boundsFn: opts.boundsFn, outputLinearLower: opts.outputLinearLower, timeMs: opts.queryTimeoutMs, budgetMs: 2 * opts.queryTimeoutMs, seed: opts.seed })
      : null;
  if (margins) opts.onProgress?.({ phase: `class margins: ${margins.proved.length} proved`, done: 0, total: 1, removed: 0 });
  const t0 = Date.now();
  const budget = opts.toleranceBudgetMs ?? opts.queryTimeoutMs * 20;
  // with many inputs a class check needs the original's winner proved the same on the whole domain (input splitting
  // cannot follow a boundary between classes): without it every query fails (MNIST 256x2 prop_0_0.05, where the
  // class changes inside the ball: 0 of 244 proved in 100 s)
  if (tol.kind === 'class' && manyInputs(f.inputSize) && provedUniqueWinner(margins?.lower, outputSize(f)) < 0) {
    return { candidates: 0, queries: 0, provedQueries: 0, refutedQueries: 0, accepted: 0, timeMs: 0, budgetMs: budget, ended: 'no-winner' };
  }
  const rng = mulberry32((opts.seed ?? 1) + 17);
  const batchSamples = 256;
  const xs = samplePoints(opts.domain[0], batchSamples, rng);
  const sens = neuronSensitivity(f, xs, batchSamples);
  const fb = domainBounds(f, opts.domain, opts.boundsFn);
  const cands: Candidate[] = [];
  for (let k = 0; k < f.layers.length - 1; k++) {
    for (let j = 0; j < f.layers[k].outSize; j++) {
      if (edits.state[k][j] !== KEEP || !f.layers[k].relu[j]) continue;
      const l = fb[k].lo[j];
      const u = fb[k].hi[j];
      if (!(u > 0 && l < 0)) continue;
      // remove: replace by the constant 0 (error <= u); linearise: minimax line s z + c on [l, u] (error s|l|/2)
      cands.push({ layer: k, neuron: j, kind: 'remove', estimate: sens[k][j] * u, s: 0, c: 0 });
      const s = u / (u - l);
      cands.push({ layer: k, neuron: j, kind: 'linearise', estimate: sens[k][j] * (-s * l) / 2, s, c: (-s * l) / 2 });
    }
  }
  // approximate merges: j ~ alpha i on samples (least squares); the verifier bounds the residual soundly
  const tr = forwardTrace(f, xs, batchSamples);
  for (let k = 0; k < f.layers.length - 1; k++) {
    const m = f.layers[k].outSize;
    const post = tr.post[k];
    const col = (j: number): Float64Array => Float64Array.from({ length: batchSamples }, (_, s) => post[s * m + j]);
    const cols = Array.from({ length: m }, (_, j) => col(j));
    for (let j = 0; j < m; j++) {
      if (edits.state[k][j] !== KEEP || !f.layers[k].relu[j]) continue;
      let best: Candidate | null = null;
      for (let i = 0; i < m; i++) {
        if (i === j || edits.state[k][i] !== KEEP || !f.layers[k].relu[i]) continue;
        let aa = 0;
        let ab = 0;
        for (let s = 0; s < batchSamples; s++) {
          aa += cols[i][s] * cols[i][s];
          ab += cols[i][s] * cols[j][s];
        }
        if (!(aa > 0) || !(ab > 0)) continue;
        const alpha = ab / aa;
        let r = 0;
        for (let s = 0; s < batchSamples; s++) r = Math.max(r, Math.abs(cols[j][s] - alpha * cols[i][s]));
        const est = sens[k][j] * r;
        if (!best || est < best.estimate) best = { layer: k, neuron: j, kind: 'merge', into: i, estimate: est, s: alpha, c: 0 };
      }
      if (best) cands.push(best);
    }
  }
  cands.sort((a, b) => a.estimate - b.estimate || a.layer - b.layer || a.neuron - b.neuron);
  let queries = 0;
  let provedQueries = 0;
  let refutedQueries = 0;
  // proofs of changes within the tolerance come fast or not at all (the default network, 2 s limit: proved in
  // 0.2-0.45 s, the rest ran out at 2 s), so a query gets a few times the slowest proof so far, not the full limit
  let slowestProof = 0;
  const queryLimit = (): number => {
    const cap = Math.min(opts.queryTimeoutMs, Math.max(1, budget - (Date.now() - t0)));
    // with a work limit the queries end on it; the time limit is only the safety net (no pace-dependent cut)
    if (opts.maxBoxes !== undefined) return cap;
    if (provedQueries === 0) return Math.min(cap, Math.max(QUERY_FLOOR_MS, budget / 40));
    return Math.min(cap, Math.max(QUERY_FLOOR_MS, QUERY_SLACK * slowestProof));
  };
  // how the last query was proved (diff-bab, or relu-split for many inputs), for the step's record
  let provedBy = 'diff-bab';
  const tryEdits = (trial: Edits): boolean => {
    queries++;
    const pair = applyEdits(f, trial);
    const timeoutMs = queryLimit();
    if (tol.kind === 'linf') {
      const r = checkLinf(pair, opts.domain, tol.epsilon, {
        boundsFn: opts.boundsFn,
        timeoutMs,
        seed: opts.seed,
        samples: 256,
        ...(opts.maxBoxes !== undefined ? { maxBoxes: opts.maxBoxes } : {}),
      });
      if (r.verdict.status === 'refuted') refutedQueries++;
      provedBy = r.verdict.method;
      return r.verdict.status === 'proved';
    }
    if (tol.kind === 'class') {
      const r = checkClass(pair, opts.domain, tol.order, tol.margin, {
        boundsFn: opts.boundsFn,
        outputLinearLower: opts.outputLinearLower,
        timeoutMs,
        seed: opts.seed,
        samples: 256,
        fLower: margins?.lower,
        ...(opts.maxBoxes !== undefined ? { maxBoxes: opts.maxBoxes } : {}),
      });
      if (r.verdict.status === 'refuted') refutedQueries++;
      provedBy = r.verdict.method;
      return r.verdict.status === 'proved';
    }
    return false;
  };
  const apply = (e: Edits, c: Candidate): void => {
    if (c.kind === 'remove') e.state[c.layer][c.neuron] = REMOVED;
    else if (c.kind === 'merge') {
      // only while the absorbing neuron is still an untouched ReLU (else this candidate is skipped)
      if (e.state[c.layer][c.into!] !== KEEP) return;
      e.state[c.layer][c.neuron] = MERGED;
      e.mergeInto[c.layer][c.neuron] = c.into!;
      e.mergeFactor[c.layer][c.neuron] = c.s;
    } else {
      e.state[c.layer][c.neuron] = AFFINE;
      e.affS[c.layer][c.neuron] = c.s;
      e.affC[c.layer][c.neuron] = c.c;
    }
  };
  const used = new Set<string>();
  // a candidate whose neuron has changed, or a merge into a neuron that has, can no longer be applied
  const applicable = (c: Candidate): boolean => !used.has(`${c.layer}:${c.neuron}`) && !(c.kind === 'merge' && used.has(`${c.layer}:${c.into}`));
  let queue = cands.slice();
  let batch = Math.max(1, Math.ceil(queue.length / 8));
  let accepted = 0;
  while (queue.length > 0 && Date.now() - t0 < budget) {
    // a pause point: between two queries
    yield;
    queue = queue.filter(applicable);
    if (!queue.length) break;
    const chunk: Candidate[] = [];
    const chunkNeurons = new Set<string>();
    for (const c of queue) {
      const key = `${c.layer}:${c.neuron}`;
      if (chunkNeurons.has(key)) continue;
      if (c.kind === 'merge' && chunkNeurons.has(`${c.layer}:${c.into}`)) continue;
      chunk.push(c);
      chunkNeurons.add(key);
      if (c.kind === 'merge') chunkNeurons.add(`${c.layer}:${c.into}`);
      if (chunk.length >= batch) break;
    }
    // (an empty batch would "prove" the edits so far again and again until the time ran out)
    if (!chunk.length) break;
    const trial = cloneEdits(edits);
    for (const c of chunk) apply(trial, c);
    const tStep = Date.now();
    const ok = tryEdits(trial);
    if (ok) {
      provedQueries++;
      slowestProof = Math.max(slowestProof, Date.now() - tStep);
    }
    opts.onProgress?.({ phase: `tolerance search (batch ${chunk.length})`, done: accepted, total: cands.length / 2, removed: accepted });
    if (ok) {
      for (const c of chunk) {
        apply(edits, c);
        used.add(`${c.layer}:${c.neuron}`);
        if (c.kind === 'merge') used.add(`${c.layer}:${c.into}`);
        steps.push({
          kind: c.kind === 'remove' ? 'tolerance-remove' : c.kind === 'merge' ? 'tolerance-merge' : 'tolerance-linearise',
          layer: c.layer,
          neuron: c.neuron,
          ...(c.kind === 'merge' ? { into: c.into, alpha: c.s } : {}),
          verdict: { status: 'proved', method: provedBy, timeMs: Date.now() - tStep, note: `batch of ${chunk.length}` },
        });
      }
      accepted += chunk.length;
      queue = queue.filter((c) => !chunk.includes(c));
    } else if (chunk.length > 1) {
      batch = Math.max(1, chunk.length >> 1);
    } else {
      // this single change cannot be proved: drop it (the other option for the same neuron stays queued)
      queue = queue.filter((c) => c !== chunk[0]);
      batch = Math.max(1, batch);
    }
  }
  queue = queue.filter(applicable);
  return {
    candidates: cands.length,
    queries,
    provedQueries,
    refutedQueries,
    accepted,
    timeMs: Date.now() - t0,
    budgetMs: budget,
    ended: queue.length ? 'budget' : 'done',
  };
}
