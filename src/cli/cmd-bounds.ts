import { fail } from '../errors.ts';
import { intervalBounds } from '../bounds/interval.ts';
import { symbolicBounds } from '../bounds/symbolic.ts';
import { crownBounds } from '../bounds/backward.ts';
import { alphaCrownBounds } from '../bounds/alpha.ts';
import type { Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import { fmt, modelArg, printJson, resolveDomain, type CommandSpec } from './common.ts';

export const boundsCommand: CommandSpec = {
  name: 'bounds',
  summary: 'sound pre-activation bounds of every neuron over the domain',
  usage: 'nnshrink bounds MODEL|--default [--domain lo,..:hi,.. | --vnnlib F] [--method interval|symbolic|crown|alpha] [--json]\n' +
    '    (alpha: CROWN, then every unstable neuron re-bounded with relaxation slopes optimised for it; slower, tighter)',
  options: { default: { type: 'boolean' }, view: { type: 'string' }, domain: { type: 'string' }, vnnlib: { type: 'string' }, method: { type: 'string' } },
  run(values, positionals) {
    const m = modelArg(values, positionals, 'bounds');
    const domain = resolveDomain(m, values);
    const method = (values.method ?? 'crown') as string;
    const alpha = (net: Network, box: Box) => alphaCrownBounds(net, box, crownBounds(net, box));
    const fn =
      method === 'interval' ? intervalBounds
      : method === 'symbolic' ? symbolicBounds
      : method === 'crown' ? crownBounds
      : method === 'alpha' ? alpha
      : fail(`--method: '${method}' (expected interval, symbolic, crown or alpha)`);
    const t0 = Date.now();
    const all = domain.map((b) => fn(m.network, b));
    // the hull over the domain's boxes
    const res = all[0].map((lb, k) => ({
      lo: Array.from(lb.lo, (_, i) => Math.min(...all.map((a) => a[k].lo[i]))),
      hi: Array.from(lb.hi, (_, i) => Math.max(...all.map((a) => a[k].hi[i]))),
    }));
    const ms = Date.now() - t0;
    if (values.json) {
      printJson({ method, timeMs: ms, layers: res });
      return 0;
    }
    res.forEach((L, k) => {
      const relu = m.network.layers[k].relu;
      let never = 0;
      let always = 0;
      L.lo.forEach((lo, i) => {
        if (!relu[i]) return;
        if (L.hi[i] <= 0) never++;
        else if (lo >= 0) always++;
      });
      const width = L.lo.reduce((s, lo, i) => s + (L.hi[i] - lo), 0) / L.lo.length;
      process.stdout.write(`layer ${k + 1}: ${L.lo.length} neurons, mean width ${fmt(width)}, proved never active ${never}, always active ${always}\n`);
    });
    process.stdout.write(`(${method}, ${ms} ms)\n`);
    return 0;
  },
};
