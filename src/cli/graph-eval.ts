/** `eval` on a graph network: each input row is one sample (the input tensor flattened row-major), one batch. */
import { fail } from '../errors.ts';
import type { Graph } from '../model/graph/types.ts';
import { size } from '../model/graph/shape.ts';
import { forwardGraph } from '../model/graph/forward.ts';
import { printJson } from './common.ts';

export function graphEval(g: Graph, path: string, inputs: number[][], json: boolean): number {
  const n = size(g.input.shape);
  inputs.forEach((x, i) => {
    if (x.length !== n) fail(`input ${i + 1} has ${x.length} values but ${path} takes ${n} (its input [${g.input.shape.join(', ')}] flattened row-major)`);
  });
  const x = new Float64Array(inputs.length * n);
  inputs.forEach((row, i) => x.set(row, i * n));
  // a file that fixes its batch (often 1) still evaluates any number of samples: each sample is computed alone
  const y = forwardGraph(g, x, inputs.length);
  const m = size(g.output.shape);
  const rows = inputs.map((input, i) => ({ input, output: Array.from(y.subarray(i * m, (i + 1) * m)) }));
  if (json) printJson(rows.map((r) => ({ ...r, outputShape: g.output.shape })));
  else for (const r of rows) process.stdout.write(r.output.join(', ') + '\n');
  return 0;
}
