/**
 * The valid files the corpus malforms, all made by nnshrink's own writers from its embedded default network (a
 * fresh clone has them; nothing is copied from ../shared). The VNN-LIB property and the instance list are written
 * here: nnshrink reads those formats but writes neither.
 */
import { defaultNetwork } from '../../src/demo/default-network.ts';
import { nnetText } from '../../src/formats/nnet.ts';
import { jsonNetworkText } from '../../src/formats/json.ts';
import { onnxBytes } from '../../src/formats/onnx-write.ts';
import { makeBox } from '../../src/model/box.ts';
import type { Network } from '../../src/model/network.ts';

export const N_IN = 5;
export const N_OUT = 3;
export const UNIT_DOMAIN = '-1,-1,-1,-1,-1:1,1,1,1,1';

export interface Sources {
  net: Network;
  nnet: string;
  json: string;
  onnx32: Uint8Array;
  onnx64: Uint8Array;
  vnnlib: string;
  /** names net.onnx and prop.vnnlib, which a case lays out beside it */
  instances: string;
}

/** A property of the default network: inputs in a small box, "class 1 beats class 0" as the violation. */
export function vnnlibText(lo = -0.5, hi = 0.5): string {
  const lines = ['; a property of the default network, written by the corpus generator'];
  for (let i = 0; i < N_IN; i++) lines.push(`(declare-const X_${i} Real)`);
  for (let i = 0; i < N_OUT; i++) lines.push(`(declare-const Y_${i} Real)`);
  for (let i = 0; i < N_IN; i++) lines.push(`(assert (>= X_${i} ${lo}))`, `(assert (<= X_${i} ${hi}))`);
  lines.push('(assert (or (and (>= Y_1 Y_0) (>= Y_1 Y_2)) (and (>= Y_2 Y_0) (>= Y_2 0.25))))');
  return lines.join('\n') + '\n';
}

let cached: Sources | null = null;

export function sources(): Sources {
  if (cached) return cached;
  const net = defaultNetwork();
  const domain = makeBox(new Array(N_IN).fill(-1), new Array(N_IN).fill(1));
  cached = {
    net,
    nnet: nnetText(net, { domain }),
    json: jsonNetworkText(net, { domain }),
    onnx32: new Uint8Array(onnxBytes(net, { domain })),
    onnx64: new Uint8Array(onnxBytes(net, { domain, precision: 'float64' })),
    vnnlib: vnnlibText(),
    instances: 'net.onnx,prop.vnnlib\nnet.json,prop.vnnlib\n',
  };
  return cached;
}
