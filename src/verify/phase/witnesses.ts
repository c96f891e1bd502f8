/**
 * The census's first step: witnesses. Samples of the domain (and its corners with few inputs), then a local search
 * toward the sign not yet seen; a neuron seen positive and negative is 'both', with the two inputs (from plain
 * forward evaluation) as witnesses. Witnesses found later (by the tree, by a task) are kept here too.
 */
import { forwardTrace, type Network } from '../../model/network.ts';
import { boxCenter, type Box } from '../../model/box.ts';
import { maximizeBySearch } from '../search/search.ts';
import { sampleCoverBox, type DomainCover } from '../search/cover.ts';
import { neuronKey as key, type NeuronPhase, type PhaseOptions } from './types.ts';

export class PhaseWitnesses {
  /** an input where the neuron's pre-activation is > 0 (pos), < 0 (neg), by neuron key */
  readonly pos = new Map<number, Float64Array>();
  readonly neg = new Map<number, Float64Array>();
  /** the sampled points closest to flipping each neuron: starts for the local search */
  private readonly maxAt = new Map<number, { v: number; x: Float64Array }>();
  private readonly minAt = new Map<number, { v: number; x: Float64Array }>();

  constructor(
    private readonly net: Network,
    private readonly result: NeuronPhase[],
  ) {}

  /** Samples every box of the cover (rng: the census's), and its corners with few inputs. */
  sample(cover: DomainCover, samples: number, rng: () => number): void {
    const n = this.net.inputSize;
    for (const [g, b] of cover.boxes.entries()) {
      this.look(sampleCoverBox(cover, g, samples, rng), samples);
      if (n <= 12 && !cover.merged) this.look(corners(b), 1 << n);
    }
  }

  /** The signs each neuron takes at a batch of points. */
  private look(xs: Float64Array, batch: number): void {
    const { net, pos, neg } = this;
    const n = net.inputSize;
    const tr = forwardTrace(net, xs, batch);
    for (const np of this.result) {
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
      if (!(this.maxAt.get(kk)?.v! >= hiV)) this.maxAt.set(kk, { v: hiV, x: xs.slice(hiS * n, (hiS + 1) * n) });
      if (!(this.minAt.get(kk)?.v! <= loV)) this.minAt.set(kk, { v: loV, x: xs.slice(loS * n, (loS + 1) * n) });
    }
  }

  /**
   * Local search toward the unseen sign, from the closest samples and the box centres; not for neurons the domain's
   * bounds already settle (on small domains most are, and the search is the costly part). At most until 30% of the
   * census's time (from t0): it only finds witnesses faster than the proof stage would, and must not eat its time.
   */
  search(cover: DomainCover, opts: PhaseOptions, t0: number): void {
    const { net, pos, neg } = this;
    const roots = cover.boxes;
    const rootBounds = roots.map((b) => opts.boundsFn(net, b));
    const settledAtRoot = (k: number, i: number, wantPos: boolean): boolean => rootBounds.every((b) => (wantPos ? b[k].hi[i] <= 0 : b[k].lo[i] >= 0));
    for (const np of this.result) {
      const kk = key(np.layer, np.index);
      if (pos.has(kk) && neg.has(kk)) continue;
      if (settledAtRoot(np.layer, np.index, !pos.has(kk))) continue;
      if (Date.now() - t0 > 0.3 * opts.timeoutMs) break;
      const wantPos = !pos.has(kk);
      this.searchNeuron(np, wantPos, cover, opts, t0);
    }
  }

  private searchNeuron(np: NeuronPhase, wantPos: boolean, cover: DomainCover, opts: PhaseOptions, t0: number): void {
    const kk = key(np.layer, np.index);
    const c = new Float64Array(this.net.layers[np.layer].outSize);
    c[np.index] = wantPos ? 1 : -1;
    const near = (wantPos ? this.maxAt : this.minAt).get(kk);
    for (const b of cover.boxes) {
      const starts = [boxCenter(b)];
      if (near) starts.unshift(near.x);
      const r = maximizeBySearch(this.net, b, np.layer, c, starts);
      // on a hull: a witness only inside the domain
      if (!cover.contains(r.x)) continue;
      if (Date.now() - t0 > 0.3 * opts.timeoutMs) break;
      const z = forwardTrace(this.net, r.x, 1).pre[np.layer][np.index];
      if (wantPos && z > 0) this.pos.set(kk, r.x);
      if (!wantPos && z < 0) this.neg.set(kk, r.x);
    }
  }

  /** Marks a neuron 'both' once an active and an inactive witness are known (both from plain evaluation). */
  markBoth(np: NeuronPhase, method: string): boolean {
    const kk = key(np.layer, np.index);
    if (!(this.pos.has(kk) && this.neg.has(kk))) return false;
    np.phase = 'both';
    np.method = method;
    np.activeWitness = this.pos.get(kk);
    np.inactiveWitness = this.neg.get(kk);
    return true;
  }

  /** A witness that the neuron's claim (sign) fails at x: an active one against 'never', inactive against 'always'. */
  refutes(layer: number, index: number, sign: 1 | -1, x: Float64Array): void {
    (sign < 0 ? this.pos : this.neg).set(key(layer, index), x);
  }
}

/** All 2^n corners of a box, row-major. */
function corners(box: Box): Float64Array {
  const n = box.lo.length;
  const count = 1 << n;
  const out = new Float64Array(count * n);
  for (let s = 0; s < count; s++) for (let i = 0; i < n; i++) out[s * n + i] = (s >> i) & 1 ? box.hi[i] : box.lo[i];
  return out;
}
