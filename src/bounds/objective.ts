/**
 * Sound lower bounds of a linear objective c . y of the outputs over a box, from bounds already computed there:
 * the best of the output intervals, the forward symbolic output functions (linear parts cancel) and a
 * back-substitution of c itself through the relaxations (one row, cheap).
 */
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import type { NetworkBounds } from './types.ts';
import { widenLo } from './round.ts';
import { outputSym } from './symbolic.ts';
import { backwardBound } from './backward.ts';

export function outputLinearLower(net: Network, box: Box, fb: NetworkBounds, c: Float64Array): number {
  const sym = outputSym.get(fb);
  const last = fb[fb.length - 1];
  let iv = 0;
  let imag = 0;
  for (let o = 0; o < c.length; o++) {
    if (c[o] === 0) continue;
    iv += c[o] > 0 ? c[o] * last.lo[o] : c[o] * last.hi[o];
    imag += Math.abs(c[o]) * Math.max(Math.abs(last.lo[o]), Math.abs(last.hi[o]));
  }
  let ivLow = widenLo(iv, imag);
  // back-substitution of the objective itself through the relaxations (cheap: one row)
  if (net.layers.length > 1) ivLow = Math.max(ivLow, backwardBound(net, box, fb, net.layers.length - 1, c, 0, 'lower').lo);
  if (!sym) return ivLow;
  const { d, lower, upper } = sym;
  const D = d + 1;
  const coef = new Float64Array(D);
  let mag = 0;
  for (let o = 0; o < c.length; o++) {
    const co = c[o];
    if (co === 0) continue;
    const src = co > 0 ? lower : upper;
    for (let t = 0; t < D; t++) coef[t] += co * src[o * D + t];
  }
  let s = coef[d];
  mag += Math.abs(s);
  for (let t = 0; t < d; t++) {
    const ct = coef[t];
    s += ct > 0 ? ct * box.lo[t] : ct * box.hi[t];
    mag += Math.abs(ct) * Math.max(Math.abs(box.lo[t]), Math.abs(box.hi[t]));
  }
  return Math.max(ivLow, widenLo(s, mag * net.layers.length));
}
