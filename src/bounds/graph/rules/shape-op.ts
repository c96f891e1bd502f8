/** Operators that only move values (reshape, transpose, pad, concat): intervals are exact, moved by the kernel. */
import type { ViewBase, Itv } from '../types.ts';
import { runForward } from '../util.ts';

export function movedItv(v: ViewBase): Itv {
  const run = (k: 'lo' | 'hi' | 'mag'): Float64Array => runForward(v.node, v.ins.map((x) => x[k]), v.inShapes, v.outShape);
  return { lo: run('lo'), hi: run('hi'), mag: run('mag') };
}
