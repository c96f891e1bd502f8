/** Joins data tensors along one per-sample axis; every other axis must agree. */
import type { OpDef } from '../op.ts';
import { fmt, size } from '../shape.ts';

export const concat: OpDef<'concat'> = {
  arity: 'many',
  infer(node, xs) {
    const ax = node.attrs.axis;
    const first = xs[0];
    if (xs.length < 1) return 'no inputs';
    if (!(Number.isInteger(ax) && ax >= 0 && ax < first.length)) return `axis ${ax} is not an axis of ${fmt(first)}`;
    for (const s of xs) {
      if (s.length !== first.length || s.some((d, i) => i !== ax && d !== first[i])) return `shapes ${xs.map(fmt).join(', ')} do not concatenate on axis ${ax}`;
    }
    return first.map((d, i) => (i === ax ? xs.reduce((a, s) => a + s[ax], 0) : d));
  },
  forward(node, inputs, shapes, os, batch) {
    const ax = node.attrs.axis;
    const outer = batch * size(os.slice(0, ax));
    const chunks = shapes.map((s) => size(s.slice(ax)));
    const y = new Float64Array(batch * size(os));
    let k = 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inputs.length; i++) {
        const c = chunks[i];
        y.set(inputs[i].subarray(o * c, (o + 1) * c), k);
        k += c;
      }
    }
    return y;
  },
};
