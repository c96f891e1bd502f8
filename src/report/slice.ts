/**
 * The report of `slice`: the slice boxes projected on two input dimensions, coloured by how many ReLU neurons the
 * slice's pruned network keeps, a histogram of those sizes, and the family's figures. Where boxes overlap in the
 * projection (they differ in other dimensions) the smaller ones are drawn on top.
 */
import type { SplitTree } from '../slice/partition.ts';
import { dur, facts, num, page, section, table } from './html.ts';
import { seqColor } from './svg.ts';
import { colorBar, histogram, rectPlot, type Rect } from './plots.ts';

type BoxLike = { lo: ArrayLike<number>; hi: ArrayLike<number> };
type PlainBox = { lo: number[]; hi: number[] };
const plain = (b: BoxLike): PlainBox => ({ lo: Array.from(b.lo), hi: Array.from(b.hi) });

export interface SliceReportInput {
  model: string;
  family: string;
  strategy: string;
  /** the slices' boxes, in slice order */
  boxes: BoxLike[];
  /** per slice: ReLU neurons and parameters of its network */
  relu: number[];
  parameters: number[];
  sourceRelu: number;
  sourceParameters: number;
  root: BoxLike;
  tree: SplitTree;
  /** the two input dimensions drawn (default: the two the tree splits most) */
  dims?: [number, number];
  familyCheck: { points: number; boundaryPoints: number; maxAbsDiff: number };
  fallbackSlices: number;
  timeMs: number;
  version: string;
}

/** How many cuts the tree makes in each input dimension. */
function splitsPerDim(tree: SplitTree, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  const walk = (t: SplitTree): void => {
    if ('leaf' in t) return;
    counts[t.dim]++;
    walk(t.left);
    walk(t.right);
  };
  walk(tree);
  return counts;
}

/** The two dimensions cut most often (ties: the lower index first), lower index first; one input: it twice. */
export function mostSplitDims(tree: SplitTree, n: number): [number, number] {
  const c = splitsPerDim(tree, n);
  const order = c.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
  const two = [order[0], order[1] ?? order[0]].sort((a, b) => a - b);
  return [two[0], two[1]];
}

function plot(o: SliceReportInput & { boxes: PlainBox[]; root: PlainBox }, [i, j]: [number, number]): string {
  const lo = Math.min(...o.relu);
  const hi = Math.max(...o.relu);
  const t = (v: number): number => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
  const area = (b: PlainBox): number => (b.hi[i] - b.lo[i]) * (b.hi[j] - b.lo[j]);
  const order = o.boxes.map((_, k) => k).sort((a, b) => area(o.boxes[b]) - area(o.boxes[a]));
  const rects: Rect[] = order.map((k) => {
    const b = o.boxes[k];
    return {
      x: [b.lo[i], b.hi[i]],
      y: [b.lo[j], b.hi[j]],
      color: seqColor(t(o.relu[k])),
      tip: `slice ${k}: ${o.relu[k]} ReLU neurons, ${num(o.parameters[k])} parameters; X_${i} in [${num(b.lo[i])}, ${num(b.hi[i])}], X_${j} in [${num(b.lo[j])}, ${num(b.hi[j])}]`,
      data: { slice: k, relu: o.relu[k], parameters: o.parameters[k] },
    };
  });
  return rectPlot(rects, [o.root.lo[i], o.root.hi[i]], [o.root.lo[j], o.root.hi[j]], `X_${i}`, `X_${j}`) + colorBar(lo, hi, 'ReLU neurons per slice');
}

export function sliceReport(input: SliceReportInput): string {
  const o = { ...input, boxes: input.boxes.map(plain), root: plain(input.root) };
  const n = o.root.lo.length;
  const dims = o.dims ?? mostSplitDims(o.tree, n);
  const cuts = splitsPerDim(o.tree, n);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const summary = facts([
    ['model', o.model],
    ['family', o.family],
    ['slices', `${o.boxes.length} (${o.strategy})`],
    ['ReLU neurons per slice', `mean ${num(mean(o.relu))}, min ${num(Math.min(...o.relu))}, max ${num(Math.max(...o.relu))} (original ${num(o.sourceRelu)})`],
    ['parameters per slice', `mean ${num(mean(o.parameters))} (original ${num(o.sourceParameters)})`],
    ['cuts per input', cuts.map((c, d) => `X_${d}: ${c}`).join(', ')],
    ['family check', `${num(o.familyCheck.points)} points through the dispatcher (${num(o.familyCheck.boundaryPoints)} on cuts), largest |f-g| ${num(o.familyCheck.maxAbsDiff)}`],
    ['slices keeping the original', o.fallbackSlices],
    ['time', dur(o.timeMs)],
  ]);
  const rows = o.boxes.map((b, k) => [k, o.relu[k], o.parameters[k], b.lo.map((v, d) => `[${num(v)}, ${num(b.hi[d])}]`).join(' ')]);
  const boxes = table({ id: 'slices', head: ['slice', 'ReLU neurons', 'parameters', 'box (per input)'], numeric: [0, 1, 2], rows, rowData: o.boxes.map((_, k) => ({ slice: k, relu: o.relu[k] })) });
  return page({
    kind: 'slice',
    title: `nnshrink slice: ${o.model}`,
    subtitle: `${o.boxes.length} slices in ${o.family}; boxes drawn in X_${dims[0]} and X_${dims[1]}`,
    sections: [
      section('Summary', summary, 'summary'),
      section(
        'Slices and their sizes',
        `<div class="grid2"><div id="boxes" data-dims="${dims.join(',')}">${plot(o, dims)}</div><div id="histogram">${histogram(o.relu, { xLabel: 'ReLU neurons in the slice', yLabel: 'slices', color: '#21918c' })}</div></div>` +
          `<p class="note">Each box is one slice projected on X_${dims[0]} (across) and X_${dims[1]} (up); slices that differ only in other inputs overlap here (hover for each one). --report-dims I,J draws two other inputs.</p>`,
        'plots',
      ),
      section('Every slice', boxes, 'table'),
    ],
    data: { kind: 'slice', dims, relu: o.relu, parameters: o.parameters, cuts },
    version: o.version,
  });
}
