/**
 * The final check's random-sample comparison of f and the pruned network: the largest |f - g| and, in class mode,
 * the points where the winners differ. The points come in fixed chunks, each with its own seed, and the results
 * combine by max and sum, so the same points give the same figures in this thread or on any number of workers
 * (worth it on many inputs: 100,000 MNIST 256x2 points cost about 30 s of forward passes).
 */
import { forward, type Network } from '../model/network.ts';
import { samplePoints, type Box } from '../model/box.ts';
import { mulberry32 } from '../model/rng.ts';
import { WorkerPool, type JobRunner } from '../pool/pool.ts';
import { classChanged, type Tolerance } from '../verify/tolerance.ts';

export interface SamplingResult {
  points: number;
  maxAbsDiff: number;
  classDisagreements?: number;
  /** the point of the largest |f - g| (linf and exact), or the first point where the class changes (class): the
   * counterexample when sampling contradicts a claim */
  worst?: number[];
}

type ChunkResult = { maxAbs: number; disagree: number; worst?: number[] };

export interface SampleJob {
  f: Network;
  g: Network;
  box: Box;
  count: number;
  seed: number;
  tolerance: Tolerance;
}

const CHUNK = 4096;
/** each worker compiles the sources and holds both networks: past a few, more cost memory for little */
const MAX_SAMPLE_WORKERS = 8;
/** below this many multiply-adds (f's and g's, all points) worker start-up costs more than it saves */
const POOL_WORK = 3e9;

/** One chunk of points: the largest |f - g| and the class disagreements among them. */
export function sampleChunk(job: SampleJob): ChunkResult {
  const { f, g, box, count, tolerance: tol } = job;
  const xs = samplePoints(box, count, mulberry32(job.seed));
  const a = forward(f, xs, count);
  const c = forward(g, xs, count);
  const m = a.length / count;
  const n = xs.length / count;
  const point = (s: number): number[] => Array.from(xs.subarray(s * n, (s + 1) * n));
  let maxAbs = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - c[i]);
    // NaN counts as the largest difference: a network that gives NaN agrees with nothing
    const v = Number.isNaN(d) ? Infinity : d;
    if (v > maxAbs) {
      maxAbs = v;
      at = Math.floor(i / m);
    }
  }
  let disagree = 0;
  let first = -1;
  if (tol.kind === 'class') {
    for (let s = 0; s < count; s++) {
      if (classChanged(a.subarray(s * m, (s + 1) * m), c.subarray(s * m, (s + 1) * m), tol.order, tol.margin)) {
        if (disagree++ === 0) first = s;
      }
    }
  }
  const w = tol.kind === 'class' ? first : at;
  return { maxAbs, disagree, ...(w >= 0 ? { worst: point(w) } : {}) };
}

/** What to compare: f and g on `count` points spread over the domain's boxes, drawn from `seed`. */
export interface SampleRequest {
  f: Network;
  g: Network;
  domain: Box[];
  tolerance: Tolerance;
  count: number;
  seed: number;
  onSampled?: (done: number, total: number) => void;
}

/** The fixed chunks (the same whoever runs them), and a counter that reports the points done after each. */
function plan(req: SampleRequest): { jobs: SampleJob[]; tick: (i: number) => void } {
  const per = Math.ceil(req.count / req.domain.length);
  const jobs: SampleJob[] = [];
  req.domain.forEach((box, b) => {
    for (let done = 0, c = 0; done < per; done += CHUNK, c++) {
      jobs.push({ f: req.f, g: req.g, box, count: Math.min(CHUNK, per - done), seed: (req.seed + 7919 * b + 104729 * c) >>> 0, tolerance: req.tolerance });
    }
  });
  const total = jobs.reduce((s, j) => s + j.count, 0);
  let done = 0;
  return {
    jobs,
    tick: (i) => {
      done += jobs[i].count;
      req.onSampled?.(done, total);
    },
  };
}

function combine(jobs: SampleJob[], results: ChunkResult[], tol: Tolerance): SamplingResult {
  // the worst point: of the chunk with the largest difference (class: the first chunk with a disagreement), the
  // same whoever ran the chunks
  let best = -1;
  results.forEach((r, i) => {
    if (tol.kind === 'class' ? r.disagree > 0 && best < 0 : r.worst && (best < 0 || r.maxAbs > results[best].maxAbs)) best = i;
  });
  return {
    points: jobs.reduce((s, j) => s + j.count, 0),
    maxAbsDiff: results.reduce((m, r) => Math.max(m, r.maxAbs), 0),
    classDisagreements: tol.kind === 'class' ? results.reduce((s, r) => s + r.disagree, 0) : undefined,
    ...(best >= 0 && results[best].worst ? { worst: results[best].worst } : {}),
  };
}

/** Whether the samples contradict a claim of `tolerance` with L-infinity slack `epsilon` (exact: the fixed slack). */
export function samplingContradicts(s: SamplingResult, tolerance: Tolerance, epsilon: number): boolean {
  return tolerance.kind === 'class' ? (s.classDisagreements ?? 0) > 0 : !(s.maxAbsDiff <= epsilon);
}

/** In this thread. */
export function sampleCompare(req: SampleRequest): SamplingResult {
  const { jobs, tick } = plan(req);
  const results = jobs.map((j, i) => {
    const r = sampleChunk(j);
    tick(i);
    return r;
  });
  return combine(jobs, results, req.tolerance);
}

/** The same points and figures, on `workers` threads when the work is large enough to repay starting them. */
export async function sampleCompareParallel(req: SampleRequest, workers: number | JobRunner, minWork = POOL_WORK): Promise<SamplingResult> {
  if ((typeof workers === 'number' && workers <= 1) || req.count * (macs(req.f) + macs(req.g)) < minWork) return sampleCompare(req);
  const { jobs, tick } = plan(req);
  // a runner given (the job queue): the same chunks there
  if (typeof workers !== 'number') return combine(jobs, await workers.run<SampleJob, ChunkResult>(import.meta.url, 'sampleChunk', jobs, tick), req.tolerance);
  const pool = new WorkerPool(Math.min(workers, jobs.length, MAX_SAMPLE_WORKERS));
  try {
    const results = await pool.run<SampleJob, ChunkResult>(import.meta.url, 'sampleChunk', jobs, tick);
    return combine(jobs, results, req.tolerance);
  } finally {
    await pool.close();
  }
}

function macs(net: Network): number {
  return net.layers.reduce((s, L) => s + L.inSize * L.outSize, 0);
}
