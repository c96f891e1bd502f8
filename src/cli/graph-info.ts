/** `info` on a graph network (a CNN's ONNX): operators, shapes, parameters, activation neurons and channels. */
import { functionParams } from '../model/graph/params.ts';
import type { Graph, GraphNode, Shape } from '../model/graph/types.ts';
import { size } from '../model/graph/shape.ts';
import { printJson } from './common.ts';

/** piecewise-linear activations: the neurons whose phase (active / inactive) the census decides */
export const RELU_LIKE: ReadonlySet<string> = new Set(['relu', 'leakyrelu', 'prelu', 'clip']);

/** A channel is axis 0 of a tensor of rank 2 or more ([C, H, W]); a flat vector's elements are its own channels. */
export const channelsOf = (s: Shape): number => (s.length >= 2 ? s[0] : size(s));

export interface ActivationInfo {
  node: string;
  op: string;
  shape: Shape;
  neurons: number;
  channels: number;
}

export interface GraphSummary {
  input: { name: string; shape: Shape; batch: number | string };
  output: { name: string; shape: Shape };
  opset: number | null;
  nodes: number;
  operators: Record<string, number>;
  parameters: number;
  nonzeroParameters: number;
  multiplyAdds: number;
  reluNeurons: number;
  reluChannels: number;
  activations: ActivationInfo[];
}

/** Multiply-adds of one sample through a node (the linear maps; elementwise work is not counted). */
function nodeMacs(g: Graph, n: GraphNode): number {
  const out = size(g.shapes.get(n.output)!);
  if (n.op === 'conv') {
    const w = n.params.weight.shape;
    return out * w[1] * w[2] * w[3];
  }
  if (n.op === 'dense') return out * n.params.weight.shape[1];
  return 0;
}

export function graphSummary(g: Graph): GraphSummary {
  const operators: Record<string, number> = {};
  let parameters = 0;
  let nonzero = 0;
  let macs = 0;
  const activations: ActivationInfo[] = [];
  for (const n of g.nodes) {
    operators[n.op] = (operators[n.op] ?? 0) + 1;
    for (const t of functionParams(n)) {
      parameters += t.data.length;
      for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) nonzero++;
    }
    macs += nodeMacs(g, n);
    if (RELU_LIKE.has(n.op)) {
      const shape = g.shapes.get(n.output)!;
      activations.push({ node: n.name, op: n.op, shape, neurons: size(shape), channels: channelsOf(shape) });
    }
  }
  return {
    input: { name: g.input.name, shape: g.input.shape, batch: g.input.batch },
    output: { name: g.output.name, shape: g.output.shape },
    opset: g.opset ?? null,
    nodes: g.nodes.length,
    operators,
    parameters,
    nonzeroParameters: nonzero,
    multiplyAdds: macs,
    reluNeurons: activations.reduce((a, x) => a + x.neurons, 0),
    reluChannels: activations.reduce((a, x) => a + x.channels, 0),
    activations,
  };
}

const shapeText = (batch: number | string, s: Shape): string => `[${[typeof batch === 'number' ? batch : batch ? `${batch} (dynamic)` : '? (dynamic)', ...s].join(', ')}]`;

export function graphInfo(g: Graph, path: string, json: boolean): number {
  const s = graphSummary(g);
  if (json) {
    printJson({ path, format: 'onnx', kind: 'graph', ...s, domain: null });
    return 0;
  }
  const ops = Object.entries(s.operators).map(([op, k]) => `${op} ${k}`).join(', ');
  const out = [
    `${path} (onnx, graph network${s.opset !== null ? `, opset ${s.opset}` : ''})`,
    `  input '${s.input.name}' ${shapeText(s.input.batch, s.input.shape)} (${size(s.input.shape)} values), output '${s.output.name}' ${shapeText(s.input.batch, s.output.shape)}`,
    `  ${s.nodes} nodes: ${ops}`,
    `  parameters ${s.parameters} (${s.nonzeroParameters} nonzero), multiply-adds ${s.multiplyAdds}`,
    `  ${s.activations.every((a) => a.op === 'relu') ? 'ReLU' : 'ReLU-like (relu, leakyrelu, prelu, clip)'} neurons ${s.reluNeurons} in ${s.reluChannels} channels, ${s.activations.length} activation layer${s.activations.length === 1 ? '' : 's'}${s.activations.length ? ':' : ''}`,
    ...s.activations.map((a) => `    ${a.node} (${a.op}) [${a.shape.join(', ')}]: ${a.neurons} neurons, ${a.channels} channels`),
    '  domain: none stated (give --domain or --vnnlib to the commands that need one)',
  ];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
