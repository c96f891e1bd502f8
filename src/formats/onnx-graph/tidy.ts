/**
 * After the walk: nodes that do not reach the output are dropped (the Mul of a Max(z, z * s), exporters' spare
 * branches), a dense node's bias add (MatMul then Add, as TensorFlow exports) is folded into it, a multiplication
 * by a constant followed by an addition of one (how nnshrink writes an affine node) becomes one affine node, and the
 * output tensor carries the graph's output name even when an Identity made it.
 */
import type { AffineNode, DenseNode, GraphNode, Shape } from '../../model/graph/types.ts';
import { size } from '../../model/graph/shape.ts';

export function liveNodes(nodes: readonly GraphNode[], output: string): GraphNode[] {
  const need = new Set([output]);
  const keep: GraphNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (!need.has(nodes[i].output)) continue;
    keep.push(nodes[i]);
    nodes[i].inputs.forEach((t) => need.add(t));
  }
  return keep.reverse();
}

/** Whether an affine node acts on the last axis only (its scale and shift are 1 on every other axis). */
const lastAxisOnly = (s: Shape): boolean => size(s.slice(0, -1)) === 1;

function fuse(d: DenseNode, a: AffineNode): DenseNode {
  const [m, n] = d.params.weight.shape;
  const sc = (o: number): number => a.params.scale.data[a.params.scale.data.length === 1 ? 0 : o];
  const sh = (o: number): number => a.params.shift.data[a.params.shift.data.length === 1 ? 0 : o];
  const w = d.params.weight.data.map((v, e) => v * sc(Math.floor(e / n)));
  const b = d.params.bias.data.map((v, o) => v * sc(o) + sh(o));
  return { ...d, output: a.output, params: { weight: { shape: [m, n], data: w }, bias: { shape: [m], data: b } } };
}

/**
 * Each node that reads only the node just before it, when nothing else reads that one's output (and it is not the
 * graph's output), replaced with join(prev, n) where join gives a node; else kept.
 */
function fuseIntoPrevious(nodes: readonly GraphNode[], output: string, join: (prev: GraphNode, n: GraphNode) => GraphNode | null): GraphNode[] {
  const uses = new Map<string, number>();
  nodes.forEach((n) => n.inputs.forEach((t) => uses.set(t, (uses.get(t) ?? 0) + 1)));
  const out: GraphNode[] = [];
  for (const n of nodes) {
    const prev = out[out.length - 1];
    const fused = prev && n.inputs[0] === prev.output && uses.get(prev.output) === 1 && prev.output !== output ? join(prev, n) : null;
    if (fused) out[out.length - 1] = fused;
    else out.push(n);
  }
  return out;
}

/** Folds every affine node on the last axis into the dense node before it, when nothing else reads the dense's output. */
export function fuseDenseAffine(nodes: readonly GraphNode[], output: string): GraphNode[] {
  return fuseIntoPrevious(nodes, output, (prev, n) =>
    n.op === 'affine' && prev.op === 'dense' && lastAxisOnly(n.params.scale.shape) && lastAxisOnly(n.params.shift.shape) ? fuse(prev, n) : null,
  );
}

/**
 * Folds x * s + 0 followed at once by (.) * 1 + t into one affine x * s + t, when nothing else reads the first's
 * output: exact, as adding 0 and multiplying by 1 change no value. The fused node keeps the first's name.
 */
export function fuseAffinePairs(nodes: readonly GraphNode[], output: string): GraphNode[] {
  return fuseIntoPrevious(nodes, output, (prev, n) =>
    n.op === 'affine' && prev.op === 'affine' && prev.params.shift.data.every((v) => v === 0) && n.params.scale.data.every((v) => v === 1)
      ? { ...prev, output: n.output, params: { scale: prev.params.scale, shift: n.params.shift } }
      : null,
  );
}

/** Every mention of tensor `from` renamed `to`. */
export function renameTensor(nodes: readonly GraphNode[], from: string, to: string): GraphNode[] {
  const r = (t: string): string => (t === from ? to : t);
  return nodes.map((n) => ({ ...n, inputs: n.inputs.map(r), output: r(n.output) }) as GraphNode);
}
