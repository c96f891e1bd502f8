/** A content hash of a network's function-defining numbers, for certificates. */
import { createHash } from 'node:crypto';
import type { Network } from './network.ts';

/** The SHA-256 of a network's numbers and activations: what certificates name networks by. */
export function networkHash(net: Network): string {
  const h = createHash('sha256');
  h.update(`nnshrink-network:${net.inputSize}:${net.layers.map((L) => L.outSize).join(',')}|`);
  for (const L of net.layers) {
    h.update(new Uint8Array(L.weights.buffer, L.weights.byteOffset, L.weights.byteLength));
    h.update(new Uint8Array(L.bias.buffer, L.bias.byteOffset, L.bias.byteLength));
    h.update(L.relu);
  }
  return h.digest('hex');
}
