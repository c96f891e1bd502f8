/**
 * Proved class margins of f: on a domain where f picks the same winner c everywhere (a robust MNIST ball), a lower
 * bound mu_w > 0 of how far every other output w trails c. Bound propagation alone often cannot show the winner is
 * unique (its margins come out negative), and without that no change to f can be proved class-preserving, however
 * small; one query per output settles it (ReLU splitting with many inputs, then MILP). The margins hold on every
 * sub-box, so the class check's branch and bound can use them everywhere. Each is proved by a fresh query (CROWN,
 * ReLU splitting or MILP); none is taken from samples.
 */
import { forward, type Network } from '../../model/network.ts';
import type { Box } from '../../model/box.ts';
import type { NetworkBounds } from '../../bounds/types.ts';
import { mulberry32 } from '../../model/rng.ts';
import type { BoundsFn, OutputLinearLower } from '../bounds-fn.ts';
import { milpLinearSign } from '../search/milp.ts';
import { ReluBab } from '../search/relu-bab.ts';
import { maximizeBySearch } from '../search/search.ts';
import { manyInputs } from '../search/split.ts';
import { coverDomain, sampleCoverBox, type DomainCover } from '../search/cover.ts';

export interface ClassMargins {
  /** the output f picks on every sample of the domain */
  winner: number;
  /** lower[a * m + b]: a proved lower bound of sigma (f_a - f_b) over the whole domain (-Infinity if none) */
  lower: Float64Array;
  /** per other output: the margin proved, and how */
  proved: Array<{ output: number; margin: number; method: 'bounds' | 'relu-split' | 'milp' }>;
  timeMs: number;
}

export interface ClassMarginOptions {
  boundsFn: BoundsFn;
  outputLinearLower: OutputLinearLower;
  /** per output (ReLU splitting, then MILP) */
  timeMs: number;
  /** many inputs: the time for all outputs together (default: timeMs each); half of it gives every open output a
   * short ReLU-splitting run, the rest is shared by those still open */
  budgetMs?: number;
  samples?: number;
  seed?: number;
  /** the margin aimed for, as a share of the smallest lead seen (default 0.5); a check that only needs the winner
   * unique aims low, which ReLU splitting proves sooner */
  aim?: number;
  /** a work limit (nodes) for each ReLU-splitting search (default none: the time limits alone) */
  maxNodes?: number;
}

/** The winner's smallest lead over each output on the samples, and the sample where each box saw it. */
interface SampledLeads {
  winner: number;
  seen: Float64Array;
  closest: Array<Array<Float64Array | null>>;
}

/** An output whose margin bound propagation did not prove well enough: its objective c . y = sigma (y_w - y_winner),
 * the margin from the bounds, the target, and its ReLU-splitting trees per box (kept to resume). */
interface OpenOutput {
  w: number;
  c: Float64Array;
  byBounds: number;
  target: number;
  lowered?: boolean;
  babs: Array<ReluBab | null>;
}

/** Margins of f's winner over the domain, or null when samples, a local search or ReLU splitting find a point
 * with another winner. */
export function provedClassMargins(f: Network, boxes: Box[], order: 'argmax' | 'argmin', opts: ClassMarginOptions): ClassMargins | null {
  const t0 = Date.now();
  // very many boxes: margins proved on hulls of groups of them (cover.ts), points found count only in the domain
  const cover = coverDomain(boxes);
  const sigma = order === 'argmin' ? 1 : -1;
  const leads = sampleLeads(f, cover, sigma, opts);
  if (!leads) return null;
  const search = new MarginSearch(f, cover, sigma, leads.winner, opts);
  const open = search.openOutputs(leads);
  if (!open) return null;
  // prove c . y - target > 0 on every box. With many inputs by ReLU splitting: a short run for every output first
  // (half the budget, evenly; most close in it, and one hard output no longer takes the time of the others), then
  // the open ones share the rest: they resume their trees for half their share, MILP for the other half
  const budgetEnd = Date.now() + (opts.budgetMs ?? opts.timeMs * open.length);
  const firstEnd = Date.now() + (budgetEnd - Date.now()) / 2;
  const rest = search.many ? search.shortRuns(open, firstEnd) : open;
  search.finish(rest, budgetEnd);
  if (search.twoWinners) return null;
  search.proved.sort((a, b) => a.output - b.output);
  return { winner: leads.winner, lower: search.lower, proved: search.proved, timeMs: Date.now() - t0 };
}

/** The winner on the samples of every cover box, with its smallest leads; null when another output wins one. */
function sampleLeads(f: Network, cover: DomainCover, sigma: number, opts: ClassMarginOptions): SampledLeads | null {
  const domain = cover.boxes;
  const m = f.layers[f.layers.length - 1].outSize;
  const rng = mulberry32(opts.seed ?? 31);
  const count = opts.samples ?? 512;
  // the smallest lead of the winner over each output on the samples: the margin to aim for is a share of it (aim)
  const n = f.inputSize;
  const seen = new Float64Array(m).fill(Infinity);
  const closest: Array<Array<Float64Array | null>> = domain.map(() => new Array(m).fill(null));
  let winner = -1;
  for (const bi of domain.keys()) {
    const xs = sampleCoverBox(cover, bi, count, rng);
    const y = forward(f, xs, count);
    for (let s = 0; s < count; s++) {
      let w = 0;
      for (let j = 1; j < m; j++) if (sigma * y[s * m + j] < sigma * y[s * m + w]) w = j;
      if (winner < 0) winner = w;
      if (w !== winner) return null;
      for (let j = 0; j < m; j++) {
        if (j === w) continue;
        const v = sigma * (y[s * m + j] - y[s * m + w]);
        if (v < seen[j]) {
          seen[j] = v;
          closest[bi][j] = xs.slice(s * n, (s + 1) * n);
        }
      }
    }
  }
  return winner < 0 ? null : { winner, seen, closest };
}

/** The margins proved so far and the searches that prove the others. */
class MarginSearch {
  readonly domain: Box[];
  readonly m: number;
  readonly last: number;
  readonly many: boolean;
  readonly fbs: NetworkBounds[];
  readonly lower: Float64Array;
  readonly proved: ClassMargins['proved'] = [];
  /** a point ReLU splitting found where another output wins: no margins exist (the ball is not robust) */
  twoWinners = false;

  constructor(
    private readonly f: Network,
    private readonly cover: DomainCover,
    private readonly sigma: number,
    private readonly winner: number,
    private readonly opts: ClassMarginOptions,
  ) {
    this.domain = cover.boxes;
    this.m = f.layers[f.layers.length - 1].outSize;
    this.last = f.layers.length - 1;
    this.many = manyInputs(f.inputSize);
    this.fbs = this.domain.map((b) => opts.boundsFn(f, b));
    this.lower = new Float64Array(this.m * this.m).fill(-Infinity);
  }

  /** The margins the bounds prove well enough are recorded; the others are returned with their targets, or null
   * when a local search finds another winner. */
  openOutputs(leads: SampledLeads): OpenOutput[] | null {
    const { f, m, sigma, winner, domain, opts } = this;
    const open: OpenOutput[] = [];
    for (let w = 0; w < m; w++) {
      if (w === winner || !(leads.seen[w] > 0)) continue;
      // c . y = sigma (y_w - y_winner)
      const c = new Float64Array(m);
      c[w] = sigma;
      c[winner] = -sigma;
      let byBounds = Infinity;
      for (const [bi, b] of domain.entries()) byBounds = Math.min(byBounds, opts.outputLinearLower(f, b, this.fbs[bi], c));
      // a positive margin from the bounds is kept, but when far below the target below (MNIST 256x2 prop_0_0.03:
      // 0.018 where ReLU splitting proves 0.50) it leaves every check of a changed network no room
      if (byBounds > 0 && (byBounds >= (leads.seen[w] * (opts.aim ?? 0.5)) / 2 || !this.many)) {
        this.lower[w * m + winner] = byBounds;
        this.proved.push({ output: w, margin: byBounds, method: 'bounds' });
        continue;
      }
      if (!this.searchLead(leads, w, c)) return null;
      open.push({ w, c, byBounds, target: leads.seen[w] * (opts.aim ?? 0.5), babs: domain.map(() => null) });
    }
    return open;
  }

  /** A local search from the closest sample: an adversarial point shows there is no single winner (false; no MILP
   * is worth running then), and a smaller margin than sampling saw lowers the target to something provable. */
  private searchLead(leads: SampledLeads, w: number, c: Float64Array): boolean {
    const { f, sigma, winner } = this;
    for (const [bi, b] of this.domain.entries()) {
      const start = leads.closest[bi][w];
      if (!start) continue;
      const r = maximizeBySearch(f, b, this.last, c.map((v) => -v), [start], 30);
      if (!this.cover.contains(r.x)) continue;
      const y = forward(f, r.x);
      const v = sigma * (y[w] - y[winner]);
      if (!(v > 0)) return false;
      leads.seen[w] = Math.min(leads.seen[w], v);
    }
    return true;
  }

  /**
   * ReLU splitting of o on box bi until the deadline; true when proved. A point it finds below the target: another
   * winner there means no margin exists (stop before every output spends its time); else the target drops to half
   * the lead found, once (boxes proved for the higher target stay proved).
   */
  split(o: OpenOutput, bi: number, until: number): boolean {
    if (this.twoWinners) return false;
    o.babs[bi] ??= new ReluBab(this.f, this.domain[bi], this.fbs[bi], o.c, -o.target, this.opts.maxNodes !== undefined ? { maxNodes: this.opts.maxNodes } : {});
    const v = o.babs[bi]!.run(until);
    const x = o.babs[bi]!.witness;
    if (v !== 'refuted' || !x) return v === 'proved';
    // a point of a hull outside the domain shows nothing about the domain: this margin is just not proved
    if (!this.cover.contains(x)) return false;
    const y = forward(this.f, x);
    const lead = this.sigma * (y[o.w] - y[this.winner]);
    if (!(lead > 0)) this.twoWinners = true;
    else if (!o.lowered && lead < o.target) {
      o.lowered = true;
      o.target = lead / 2;
      o.babs[bi] = null;
      return this.split(o, bi, until);
    }
    return false;
  }

  /** o's margin: its target when proved, else the bounds' if positive. */
  record(o: OpenOutput, ok: boolean, method: 'relu-split' | 'milp'): void {
    const { m, winner } = this;
    if (ok) {
      this.lower[o.w * m + winner] = o.target;
      this.proved.push({ output: o.w, margin: o.target, method });
    } else if (o.byBounds > 0) {
      this.lower[o.w * m + winner] = o.byBounds;
      this.proved.push({ output: o.w, margin: o.byBounds, method: 'bounds' });
    }
  }

  /** Many inputs: a short ReLU-splitting run for every output, evenly until firstEnd; the ones still open. */
  shortRuns(open: OpenOutput[], firstEnd: number): OpenOutput[] {
    return open.filter((o, i) => {
      const until = Date.now() + (firstEnd - Date.now()) / (open.length - i);
      if (!this.domain.every((_, bi) => this.split(o, bi, until))) return true;
      this.record(o, true, 'relu-split');
      return false;
    });
  }

  /** The open outputs, each with an even share of what is left of the budget (many inputs: its trees resumed for
   * half the share, then MILP) or timeMs (few: MILP). */
  finish(rest: OpenOutput[], budgetEnd: number): void {
    const { many, opts } = this;
    for (const [i, o] of rest.entries()) {
      if (this.twoWinners) break;
      const timeMs = many ? Math.min(opts.timeMs, (budgetEnd - Date.now()) / (rest.length - i)) : opts.timeMs;
      const { ok, method } = this.proveOutput(o, timeMs);
      this.record(o, ok, method);
    }
  }

  private proveOutput(o: OpenOutput, timeMs: number): { ok: boolean; method: 'relu-split' | 'milp' } {
    const neg = o.c.map((v) => -v);
    let method: 'relu-split' | 'milp' = 'relu-split';
    for (const [bi, b] of this.domain.entries()) {
      const start = Date.now();
      if (this.many && this.split(o, bi, start + timeMs / 2)) continue;
      // (an exact MILP on hundreds of inputs is not worth its time to improve a margin already proved)
      if (o.byBounds > 0) return { ok: false, method };
      // (building the MILP of a 784-input network alone takes about 150 ms)
      if (this.many && timeMs - (Date.now() - start) < 200) return { ok: false, method };
      method = 'milp';
      const r = milpLinearSign(this.f, b, this.fbs[bi], this.last, neg, o.target, timeMs - (Date.now() - start));
      if (r.status !== 'proved') return { ok: false, method };
    }
    return { ok: true, method };
  }
}
