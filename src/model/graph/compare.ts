/**
 * Structural comparison of two graphs: the same input (name, shape, batch), output (name, shape), opset and nodes in
 * order (name, operator, inputs, output, attributes, parameters with equal shapes and bit-identical values, +0 and
 * -0 equal). The element type (precision) is not compared: it is how a file stores the same numbers. A stored
 * file's graph equal to the one it was written from computes the same function, which is what a check relies on.
 */
import { quote } from '../../errors.ts';
import type { Graph, GraphNode, Tensor } from './types.ts';
import { fmt } from './shape.ts';

/** The first difference between two attribute values, as a path and both sides, or null when deep-equal. */
function valueDifference(a: unknown, b: unknown, path: string): string | null {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path} ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    if (a.length !== b.length) return `${path} has ${a.length} vs ${b.length} entries`;
    for (let i = 0; i < a.length; i++) {
      const d = valueDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const d = valueDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  // numbers compare with ===: +0 equals -0, Infinity equals itself (NaN never occurs in a built graph)
  return a === b ? null : `${path} ${String(a)} vs ${String(b)}`;
}

function tensorDifference(key: string, a: Tensor | undefined, b: Tensor | undefined): string | null {
  if (!a || !b) return a === b ? null : `${key} is ${a ? 'present' : 'absent'} vs ${b ? 'present' : 'absent'}`;
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return `${key} of shape ${fmt(a.shape)} vs ${fmt(b.shape)}`;
  if (a.data.length !== b.data.length) return `${key} holds ${a.data.length} vs ${b.data.length} values`;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return `${key}[${i}] ${a.data[i]} vs ${b.data[i]}`;
  return null;
}

function nodeDifference(a: GraphNode, b: GraphNode): string | null {
  if (a.name !== b.name) return `name vs ${quote(b.name)}`;
  if (a.op !== b.op) return `operator vs ${b.op}`;
  const io = valueDifference({ inputs: a.inputs, output: a.output }, { inputs: b.inputs, output: b.output }, '');
  if (io) return io;
  const at = valueDifference(a.attrs, b.attrs, 'attribute');
  if (at) return at;
  const pa = a.params as Record<string, Tensor | undefined>;
  const pb = b.params as Record<string, Tensor | undefined>;
  const keys = [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort();
  for (const k of keys) {
    const d = tensorDifference(k, pa[k], pb[k]);
    if (d) return d;
  }
  return null;
}

/** null when a and b are structurally identical, else a short description of the first difference. */
export function graphDifference(a: Graph, b: Graph): string | null {
  const input = valueDifference({ ...a.input }, { ...b.input }, 'input');
  if (input) return input;
  const output = valueDifference({ ...a.output }, { ...b.output }, 'output');
  if (output) return output;
  if (a.opset !== b.opset) return `opset ${a.opset ?? 'none'} vs ${b.opset ?? 'none'}`;
  if (a.nodes.length !== b.nodes.length) return `${a.nodes.length} vs ${b.nodes.length} nodes`;
  for (let i = 0; i < a.nodes.length; i++) {
    const d = nodeDifference(a.nodes[i], b.nodes[i]);
    if (d) return `node ${i} ${quote(a.nodes[i].name)} (${a.nodes[i].op}): ${d}`;
  }
  return null;
}
