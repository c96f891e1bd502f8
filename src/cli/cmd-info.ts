import { outputSize, sizeMetrics } from '../model/network.ts';
import { boxToJSON, type Box } from '../model/box.ts';
import { anyModelArg, printJson, viewOpt, type CommandSpec } from './common.ts';
import { graphInfo } from './graph-info.ts';
import { openFamily, type FamilyView } from './family-eval.ts';

export const infoCommand: CommandSpec = {
  name: 'info',
  summary: 'layers, sizes, parameters and domain of a model (a graph network: operators, shapes, activation neurons and channels)',
  usage: 'nnshrink info MODEL|FAMILY_DIR|FAMILY.onnx|--default [--view raw|normalized] [--json]',
  options: { default: { type: 'boolean' }, view: { type: 'string' } },
  maxPositionals: 1,
  exits: '0 done',
  run(values, positionals) {
    viewOpt(values);
    const fam = positionals.length ? openFamily(positionals[0]) : null;
    if (fam) return familyInfo(fam, values.json === true);
    const any = anyModelArg(values, positionals, 'info');
    if (any.kind === 'graph') return graphInfo(any.graph, any.path, values.json === true);
    const m = any.model;
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

/** A slice family: how many slices, their domain, and how large the slice networks are (against the source's). */
function familyInfo(fam: FamilyView, json: boolean): number {
  const path = fam.path;
  const sizes = Array.from({ length: fam.count }, (_, i) => sizeMetrics(fam.net(i)));
  const source = fam.manifest?.source;
  const net0 = fam.net(0);
  const stat = (pick: (s: (typeof sizes)[number]) => number) => {
    const v = sizes.map(pick).sort((a, b) => a - b);
    return { min: v[0], median: v[v.length >> 1], max: v[v.length - 1], sum: v.reduce((a, b) => a + b, 0) };
  };
  const relu = stat((s) => s.reluNeurons);
  const params = stat((s) => s.parameters);
  if (json) {
    printJson({
      path,
      kind: `slice family (${fam.kind})`,
      inputs: net0.inputSize,
      outputs: outputSize(net0),
      slices: fam.count,
      domain: boxToJSON(fam.root),
      ...(fam.regions ? { regions: fam.regions.map(boxToJSON) } : {}),
      source: source ? { path: source.path, sizes: source.sizes } : undefined,
      reluNeurons: relu,
      parameters: params,
      perSlice: sizes,
    });
    return 0;
  }
  const pct = (v: number, of: number | undefined) => (of ? ` (${((100 * v) / of).toFixed(1)}%)` : '');
  const out = [
    `${path} (slice family, ${fam.kind === 'directory' ? 'directory with a dispatcher' : 'one ONNX file with nested If nodes'})`,
    `  inputs ${net0.inputSize}, outputs ${outputSize(net0)}, ${fam.count} slices`,
    source ? `  source: ${source.path}, ${source.sizes.reluNeurons} ReLU neurons, ${source.sizes.parameters} parameters` : '',
    `  ReLU neurons per slice: min ${relu.min}, median ${relu.median}${pct(relu.median, source?.sizes.reluNeurons)}, max ${relu.max}${pct(relu.max, source?.sizes.reluNeurons)}`,
    `  parameters per slice: min ${params.min}, median ${params.median}${pct(params.median, source?.sizes.parameters)}, max ${params.max}${pct(params.max, source?.sizes.parameters)}; all slices ${params.sum}`,
    fam.regions
      ? [`  domain: ${fam.regions.length} boxes (inputs in none of them are refused), within ${describeDomain(fam.root)}`, ...fam.regions.map((r, i) => `    box ${i + 1}: ${describeDomain(r)}`)].join('\n')
      : `  domain: ${describeDomain(fam.root)}`,
  ];
  process.stdout.write(out.filter((l) => l).join('\n') + '\n');
  return 0;
}
