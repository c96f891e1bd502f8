/**
 * When the tolerance is not proved: which layers hold it back, and a mixed choice that passes. Each layer in turn is
 * left in float32 (the others quantised) and the bound proved for that network is reported (class: whether the class
 * claim is proved); then layers are kept in float32, those whose float32 copy helped most first, until the claim is
 * proved or every layer has been tried. A layer kept float32 keeps its stored activation float32 too (with the
 * scale calibrated for the fully quantised network: the advice is re-proved when it is taken).
 */
import type { Box } from '../../model/box.ts';
import type { Network } from '../../model/network.ts';
import type { QuantTolerance } from './certificate.ts';
import { proveQuantized, proveQuantizedClass, type ProveOptions, type QuantProof } from './prove.ts';
import { storeNetwork, storedNetwork, type QuantSpec } from './values.ts';
import { keepingFloat } from './activations.ts';

export interface Blame {
  /** per layer (0-based): the bound proved with that layer alone (and those the user kept) in float32 */
  perLayer: Array<{ layer: number; provedBound: number; status: QuantProof['status'] }>;
  /** layers (0-based) to keep in float32 so that the claim is proved, or null when none found */
  mixed: number[] | null;
}

function prove(f: Network, spec: QuantSpec, domain: Box[], t: QuantTolerance, o: ProveOptions, boundOnly: boolean): QuantProof {
  const g = storedNetwork(f, storeNetwork(f, spec));
  // a layer kept float32 keeps its output float32 too (its next layer's input is the layer's own)
  const opts = o.act ? { ...o, act: keepingFloat(o.act, spec.keepFloat) } : o;
  if (t.kind === 'class') return proveQuantizedClass(f, g, domain, t.order, t.margin, opts);
  return proveQuantized(f, g, domain, boundOnly ? 0 : t.epsilon, opts);
}

export function blameLayers(f: Network, spec: QuantSpec, domain: Box[], t: QuantTolerance, opts: ProveOptions): Blame {
  const free = f.layers.map((_, k) => k).filter((k) => !spec.keepFloat.includes(k));
  const perLayer = free.map((layer) => {
    const p = prove(f, { ...spec, keepFloat: [...spec.keepFloat, layer] }, domain, t, opts, true);
    return { layer, provedBound: p.provedBound, status: p.status };
  });
  const passes = (p: Blame['perLayer'][number]): boolean => (t.kind === 'linf' ? p.provedBound <= t.epsilon : p.status === 'proved');
  const single = perLayer.filter(passes).sort((a, b) => a.provedBound - b.provedBound)[0];
  if (single) return { perLayer, mixed: [...spec.keepFloat, single.layer].sort((a, b) => a - b) };
  // most helpful first: the smallest bound (class: the order of the layers)
  const order = [...perLayer].sort((a, b) => a.provedBound - b.provedBound || a.layer - b.layer).map((p) => p.layer);
  const keep = [...spec.keepFloat];
  for (const layer of order.slice(0, -1)) {
    keep.push(layer);
    if (prove(f, { ...spec, keepFloat: keep }, domain, t, opts, false).status === 'proved') return { perLayer, mixed: [...keep].sort((a, b) => a - b) };
  }
  return { perLayer, mixed: null };
}
