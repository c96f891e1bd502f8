/**
 * The checks equiv runs on two chains without a certificate: the layer-by-layer difference (same layer sizes) or
 * the two side by side as one network (any shapes), whose input-splitting trees step on worker threads or on the job
 * queue's workers (a JobRunner): the same trees, so the same answer, for any number of either.
 */
import type { LoadedModel } from '../formats/model-file.ts';
import type { Box } from '../model/box.ts';
import type { Network } from '../model/network.ts';
import { crownBounds } from '../bounds/backward.ts';
import { outputLinearLower } from '../bounds/objective.ts';
import { withPool, type JobRunner, type SessionPool } from '../pool/pool.ts';
import { runnerSessions } from '../queue/sessions.ts';
import { manyInputs } from '../verify/search/split.ts';
import { checkClass, checkLinf } from '../verify/equiv/equiv.ts';
import { alignedPair } from '../verify/equiv/diff/diff-pair.ts';
import { checkClassProduct, checkLinfProduct } from '../verify/equiv/equiv-product.ts';
import { winnerMargins } from '../verify/equiv/class-relu-split.ts';
import type { EquivQuestion } from '../simplify/certified-equiv.ts';
import type { EquivAnswer } from './equiv-graph.ts';
import type { Progress } from './run.ts';

export interface ChainEquivAsk {
  method: 'diff' | 'product';
  domain: Box[];
  q: EquivQuestion;
  timeoutMs: number;
  maxBoxes?: number;
  workers: number | JobRunner;
  report: (p: Progress) => void;
}

/** What one of the two methods answers, with the note said beside an answer that is not a proof. */
export async function equivChainPair(a: LoadedModel, b: LoadedModel, o: ChainEquivAsk): Promise<EquivAnswer & { note?: string }> {
  const [f, g] = [a.network, b.network];
  const t0 = Date.now();
  const opts = {
    boundsFn: crownBounds,
    outputLinearLower,
    timeoutMs: o.timeoutMs,
    onProgress: (done: number, open: number) => o.report({ stage: 'input splitting', done: 0, total: 0, detail: `${done} boxes bounded, ${open} open`, leftMs: t0 + o.timeoutMs - Date.now() }),
  };
  const productOpts = (pool: SessionPool) => ({
    ...opts,
    pool,
    ...(o.maxBoxes !== undefined ? { maxBoxes: o.maxBoxes } : {}),
    onProgress: (stage: string, boxes: number, open: number, leftMs: number) => o.report({ stage, done: 0, total: 0, detail: `${boxes} boxes bounded, ${open} open`, leftMs }),
  });
  let answer: EquivAnswer;
  if (o.q.kind === 'class') {
    const { order, margin } = o.q;
    // many inputs: input splitting cannot settle it; A's class margins (half the time) let ReLU splitting on B alone
    // prove the class kept
    const margins = o.method === 'diff' && manyInputs(f.inputSize) ? winnerMargins(f, o.domain, order, opts) : null;
    const r =
      o.method === 'diff'
        ? checkClass(alignedPair(f, g), o.domain, order, margin, { ...opts, timeoutMs: Math.max(1, o.timeoutMs - (Date.now() - t0)), fLower: margins?.lower })
        : await onTrees(f, o.workers, (pool) => checkClassProduct(f, g, o.domain, order, margin, productOpts(pool)));
    answer = {
      result: r.verdict.status,
      method: r.verdict.method,
      reason: r.verdict.status === 'unknown' ? tieNote(r.verdict.reason, margin) : undefined,
      witness: r.verdict.status === 'refuted' ? Array.from(r.verdict.witness) : undefined,
      boxes: r.boxes,
      timeMs: r.verdict.timeMs,
    };
  } else {
    const eps = o.q.epsilon;
    const r =
      o.method === 'diff'
        ? checkLinf(alignedPair(f, g), o.domain, eps, { ...opts, maxBoxes: o.maxBoxes ?? (eps === 0 ? 20000 : undefined) })
        : await onTrees(f, o.workers, (pool) => checkLinfProduct(f, g, o.domain, eps, productOpts(pool)));
    answer = {
      result: r.verdict.status,
      method: r.verdict.method,
      reason: r.verdict.status === 'unknown' ? r.verdict.reason : undefined,
      provedMaxDiff: Number.isFinite(r.provedBound) ? r.provedBound : null,
      foundMaxDiff: r.foundMax,
      witness: r.verdict.status === 'refuted' ? Array.from(r.verdict.witness) : undefined,
      boxes: r.boxes,
      timeMs: r.verdict.timeMs,
    };
  }
  const note = answer.result === 'proved' ? undefined : unitsNote(a, b);
  return note ? { ...answer, note } : answer;
}

/**
 * `run` with the pool the product method's trees step on: threads of its own (ended after), or the job queue's
 * workers; one, inline, with many inputs, where the searches split ReLUs in this thread.
 */
async function onTrees<R>(f: Network, workers: number | JobRunner, run: (pool: SessionPool) => Promise<R>): Promise<R> {
  if (manyInputs(f.inputSize)) return withPool(1, run);
  if (typeof workers !== 'number') return run(runnerSessions(workers));
  return withPool(Math.max(1, Math.floor(workers)), run);
}

/**
 * With margin 0 the claim covers A's ties, where any nonzero difference may pick another winner: unprovable unless
 * the two are the same function, however small the difference (A against itself, ACAS Xu: open after 10 s).
 */
export function tieNote(reason: string, margin: number): string {
  return margin === 0 ? `${reason}; with --margin 0 any difference can break a tie of A's scores: give --margin M` : reason;
}

/**
 * Comparing an NNet file read in raw units (its normalisation folded in) with a model of another format is most
 * often a units mistake: VNN-COMP's ACAS Xu ONNX files are the same networks in normalised units (ACAS Xu 1_1, NNet
 * against ONNX: 13,700 apart in raw units, 3.5e-6 with --view normalized).
 */
function unitsNote(a: LoadedModel, b: LoadedModel): string | undefined {
  const scaled = (m: LoadedModel): boolean =>
    m.format === 'nnet' && m.view !== 'normalized' && !!m.nnet && (m.nnet.outputMean !== 0 || m.nnet.outputRange !== 1 || m.nnet.inputMean.some((v) => v !== 0) || m.nnet.inputRange.some((v) => v !== 1));
  const [nn, other] = scaled(a) ? ['A', b] : scaled(b) ? ['B', a] : [null, null];
  if (!nn || !other || other.format === 'nnet') return undefined;
  const o = nn === 'A' ? 'B' : 'A';
  return `${nn} is an NNet file read in raw units (its normalisation folded in) and ${o} is not: if ${o} takes normalised inputs (as VNN-COMP's ACAS Xu ONNX files do), compare with --view normalized`;
}
