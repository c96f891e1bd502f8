import { sizeMetrics } from '../model/network.ts';
import { boxToJSON } from '../model/box.ts';
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
    out.push(m.domain ? `  domain: [${Array.from(m.domain.lo).join(', ')}] .. [${Array.from(m.domain.hi).join(', ')}]` : '  domain: none stated');
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  },
};
