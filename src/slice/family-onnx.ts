/**
 * A whole slice family as ONE standard ONNX model: nested If nodes on the split coordinates (x[dim] <= at takes the
 * then-branch, the same convention as the dispatcher), each leaf branch a slice network. onnxruntime runs it.
 */
import { existsSync, statSync } from 'node:fs';
import { fail } from '../errors.ts';
import { outputSize, type Network } from '../model/network.ts';
import { boxFromJSON, boxToJSON, type Box } from '../model/box.ts';
import { readInputFile } from '../formats/read-text.ts';
import { branchNetwork, decodeOnnx, FAMILY_ONNX_KEY, tensorData } from '../formats/onnx-read.ts';
import { ATTR_GRAPH, ATTR_INT, ONNX_DOUBLE, ONNX_FLOAT, type OGraph, type ONode, type OTensor } from '../formats/onnx-schema.ts';
import { encodeGraph, floatTensor, int64Tensor, networkNodes, valueInfo, type Precision } from '../formats/onnx-write.ts';
import type { Partition, SplitTree } from './partition.ts';

export function familyOnnxBytes(p: Partition, nets: Network[], precision: Precision): Uint8Array {
  const elem = precision === 'float32' ? ONNX_FLOAT : ONNX_DOUBLE;
  const n = p.root.lo.length;
  const m = nets[0].layers[nets[0].layers.length - 1].outSize;
  let counter = 0;
  // returns nodes + initializers computing tensor `out` from the outer-scope tensor 'input'
  const build = (t: SplitTree, out: string): { nodes: ONode[]; inits: OTensor[] } => {
    const id = counter++;
    if ('leaf' in t) {
      const r = networkNodes(nets[t.leaf], 'input', out, `s${t.leaf}_`, precision);
      return { nodes: r.nodes, inits: r.initializers };
    }
    const branch = (sub: SplitTree, name: string): OGraph => {
      const o = `${name}_out`;
      const b = build(sub, o);
      return { name, node: b.nodes, initializer: b.inits, input: [], output: [valueInfo(o, elem, [1, m])] };
    };
    const idx = `n${id}_dim`;
    const thr = `n${id}_at`;
    const nodes: ONode[] = [
      { op_type: 'Gather', name: `n${id}_gather`, input: ['input', idx], output: [`n${id}_v`], attribute: [{ name: 'axis', i: 1, type: ATTR_INT }] },
      { op_type: 'LessOrEqual', name: `n${id}_le`, input: [`n${id}_v`, thr], output: [`n${id}_c`] },
      {
        op_type: 'If',
        name: `n${id}_if`,
        input: [`n${id}_c`],
        output: [out],
        attribute: [
          { name: 'then_branch', g: branch(t.left, `n${id}_L`), type: ATTR_GRAPH },
          { name: 'else_branch', g: branch(t.right, `n${id}_R`), type: ATTR_GRAPH },
        ],
      },
    ];
    return { nodes, inits: [int64Tensor(idx, [1], [t.dim]), floatTensor(thr, [1], [t.at], precision)] };
  };
  const body = build(p.tree, 'output');
  const graph: OGraph = {
    name: 'nnshrink-family',
    node: body.nodes,
    initializer: body.inits,
    input: [valueInfo('input', elem, [1, n])],
    output: [valueInfo('output', elem, [1, m])],
  };
  const meta = { slices: nets.length, root: boxToJSON(p.root), ...(p.regions ? { regions: p.regions.map(boxToJSON) } : {}) };
  return encodeGraph(graph, { [FAMILY_ONNX_KEY]: JSON.stringify(meta) });
}

export interface FamilyOnnx {
  root: Box;
  /** a domain of several boxes (root is their hull) */
  regions?: Box[];
  tree: SplitTree;
  /** slice networks, in leaf order */
  nets: Network[];
}

/**
 * The slice family an ONNX file holds (the metadata familyOnnxBytes writes), or null for any other file: a file
 * without the metadata key among its bytes is not decoded at all, so asking costs an ordinary model nothing.
 * Each If level is Gather(input, dim) <= at, then-branch left; a branch without an If is a slice network. Anything
 * else is a one-line error naming the node.
 */
export function readFamilyOnnx(path: string): FamilyOnnx | null {
  if (!path.toLowerCase().endsWith('.onnx') || !existsSync(path) || !statSync(path).isFile()) return null;
  const buf = readInputFile(path);
  if (!buf.includes(FAMILY_ONNX_KEY)) return null;
  const model = decodeOnnx(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
  const meta = model.metadata_props?.find((m) => m.key === FAMILY_ONNX_KEY)?.value;
  if (meta === undefined) return null;
  let o: { root?: unknown; regions?: unknown };
  try {
    o = JSON.parse(meta);
  } catch {
    fail(`${path}: metadata '${FAMILY_ONNX_KEY}' is not valid JSON`);
  }
  const where = `${path}: metadata '${FAMILY_ONNX_KEY}'`;
  const root = boxFromJSON(o?.root, undefined, `${where} root`);
  if (o.regions !== undefined && (!Array.isArray(o.regions) || !o.regions.length)) fail(`${where}: regions must be a list of boxes`);
  const regions = (o.regions as unknown[] | undefined)?.map((r, i) => boxFromJSON(r, root.lo.length, `${where} regions[${i}]`));
  const n = root.lo.length;
  const inName = model.graph.input?.[0]?.name ?? 'input';
  const nets: Network[] = [];
  const walk = (g: OGraph, where: string): SplitTree => {
    const nodes = g.node ?? [];
    const ifNode = nodes.find((x) => x.op_type === 'If');
    if (!ifNode) {
      nets.push(branchNetwork(g, inName, n, `${path}: slice ${nets.length}`));
      return { leaf: nets.length - 1 };
    }
    const consts = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
    const le = nodes.find((x) => x.op_type === 'LessOrEqual' && x.output?.[0] === ifNode.input?.[0]);
    const gather = le && nodes.find((x) => x.op_type === 'Gather' && x.output?.[0] === le.input?.[0] && x.input?.[0] === inName);
    const dimT = gather && consts.get(gather.input?.[1] ?? '');
    const atT = le && consts.get(le.input?.[1] ?? '');
    const then = ifNode.attribute?.find((a) => a.name === 'then_branch')?.g;
    const other = ifNode.attribute?.find((a) => a.name === 'else_branch')?.g;
    if (!dimT || !atT || !then || !other || nodes.length !== 3) {
      fail(`${where}: node '${ifNode.name ?? '?'}' (If) is not a dispatch on one input coordinate (Gather, LessOrEqual, If)`);
    }
    const dim = tensorData(dimT, where).data[0];
    const at = tensorData(atT, where).data[0];
    if (!Number.isInteger(dim) || dim < 0 || dim >= n || !Number.isFinite(at)) fail(`${where}: node '${ifNode.name ?? '?'}' splits on input ${dim} at ${at}`);
    return { dim, at, left: walk(then, `${where} > ${then.name ?? 'then'}`), right: walk(other, `${where} > ${other.name ?? 'else'}`) };
  };
  const tree = walk(model.graph, path);
  const m = outputSize(nets[0]);
  nets.forEach((net, i) => {
    if (net.inputSize !== n || outputSize(net) !== m) fail(`${path}: slice ${i} maps ${net.inputSize} inputs to ${outputSize(net)} outputs, not ${n} to ${m}`);
  });
  return { root, regions, tree, nets };
}
