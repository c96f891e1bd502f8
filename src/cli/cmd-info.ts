import { sizeMetrics } from '../model/network.ts';
import { boxToJSON, type Box } from '../model/box.ts';
import { modelArg, printJson, type CommandSpec } from './common.ts';

export const infoCommand: CommandSpec = {
  name: 'info',
  summary: 'layers, sizes, parameters and domain of a model',
  usage: 'nnshrink info MODEL|--default [--view raw|normalized] [--json]',
  options: { default: { type: 'boolean' }, view: { type: 'string' } },
  run(values, positionals) {
    const m = modelArg(values, positionals, 'info');
    const s = sizeMetrics(m.network);
    const layers = m.network.layers.map((L, k) => ({
      layer: k + 1,
      in: L.inSize,
      out: L.outSize,
      relu: L.relu.reduce((a, r) => a + r, 0),
      linear: L.outSize - L.relu.reduce((a, r) => a + r, 0),
    }));
    if (values.json) {
      printJson({ path: m.path, format: m.format, view: m.view, inputs: m.network.inputSize, ...s, layers, domain: m.domain ? boxToJSON(m.domain) : null });
      return 0;
    }
    const out: string[] = [];
    out.push(`${m.path} (${m.format}${m.view ? `, ${m.view} view` : ''})`);
    out.push(`  inputs ${m.network.inputSize}, outputs ${layers[layers.length - 1].out}, layers ${s.layers} (${s.layerSizes.join(' -> ')})`);
    out.push(`  hidden neurons ${s.neurons}, ReLU neurons ${s.reluNeurons}, parameters ${s.parameters} (${s.nonzeroParameters} nonzero), multiply-adds ${s.multiplyAdds}`);
    for (const l of layers) out.push(`  layer ${l.layer}: ${l.in} -> ${l.out}  (${l.relu} ReLU, ${l.linear} linear)`);
    out.push(m.domain ? `  domain: ${describeDomain(m.domain)}` : '  domain: none stated');
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  },
};

/** The domain box, in full for a few inputs; for many (MNIST: 784) the ranges that occur, with how many inputs each. */
function describeDomain(box: Box): string {
  const n = box.lo.length;
  if (n <= 12) return `[${Array.from(box.lo).join(', ')}] .. [${Array.from(box.hi).join(', ')}]`;
  const ranges = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = `[${box.lo[i]}, ${box.hi[i]}]`;
    ranges.set(r, (ranges.get(r) ?? 0) + 1);
  }
  if (ranges.size > 4) return `${n} inputs, ${ranges.size} different ranges (--json lists them)`;
  return [...ranges].map(([r, c]) => (c === n ? `every input in ${r}` : `${c} inputs in ${r}`)).join(', ');
}
