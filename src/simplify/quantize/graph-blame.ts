/**
 * When a graph's tolerance is not proved: which conv / dense nodes hold it back, and a --keep-float choice that
 * passes. Each node in turn is kept float32 (the others quantised) and the bound the difference bounds give for
 * that graph is reported (class: whether the class claim is proved); then nodes are kept float32, those whose
 * float32 copy helped most first, until the claim is proved or the time is up. All of it within timeoutMs.
 */
import type { Box } from '../../model/box.ts';
import type { Graph } from '../../model/graph/types.ts';
import type { QuantTolerance } from './certificate.ts';
import type { QuantProof } from './prove.ts';
import type { QuantSpec } from './values.ts';
import { storeGraph, weightedNodes } from './graph-store.ts';
import { proveGraphQuantized, proveGraphQuantizedClass, type GraphProveOptions } from './graph-prove.ts';
import type { Blame } from './blame.ts';

export function blameGraphNodes(f: Graph, spec: QuantSpec, domain: Box[], t: QuantTolerance, o: GraphProveOptions): Blame {
  const deadline = Date.now() + o.timeoutMs;
  const left = (parts: number): GraphProveOptions => ({ ...o, timeoutMs: Math.max(1, (deadline - Date.now()) / parts) });
  const prove = (keep: number[], parts: number, boundOnly: boolean): QuantProof => {
    const { g } = storeGraph(f, { ...spec, keepFloat: keep });
    if (t.kind === 'class') return proveGraphQuantizedClass(f, g, domain, t.order, t.margin, left(parts));
    return proveGraphQuantized(f, g, domain, boundOnly ? 0 : t.epsilon, left(parts));
  };
  const free = weightedNodes(f).map((_, k) => k).filter((k) => !spec.keepFloat.includes(k));
  const perLayer: Blame['perLayer'] = [];
  for (const [i, layer] of free.entries()) {
    if (Date.now() > deadline) break;
    const p = prove([...spec.keepFloat, layer], 2 * (free.length - i), true);
    perLayer.push({ layer, provedBound: p.provedBound, status: p.status });
  }
  const passes = (p: Blame['perLayer'][number]): boolean => (t.kind === 'linf' ? p.provedBound <= t.epsilon : p.status === 'proved');
  const single = perLayer.filter(passes).sort((a, b) => a.provedBound - b.provedBound)[0];
  if (single) return { perLayer, mixed: [...spec.keepFloat, single.layer].sort((a, b) => a - b) };
  const order = [...perLayer].sort((a, b) => a.provedBound - b.provedBound || a.layer - b.layer).map((p) => p.layer);
  const keep = [...spec.keepFloat];
  for (const [i, layer] of order.slice(0, -1).entries()) {
    if (Date.now() > deadline) break;
    keep.push(layer);
    if (prove(keep, order.length - 1 - i, false).status === 'proved') return { perLayer, mixed: [...keep].sort((a, b) => a - b) };
  }
  return { perLayer, mixed: null };
}
