import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { trainDefaultNetwork, defaultAccuracy } from '../src/demo/default-network.ts';

test('the default network is trained deterministically (same weights twice, a known checksum) and learns its task', () => {
  const a = trainDefaultNetwork();
  const b = trainDefaultNetwork();
  const h = (n: typeof a) => {
    const c = createHash('sha256');
    for (const L of n.layers) {
      c.update(new Uint8Array(L.weights.buffer));
      c.update(new Uint8Array(L.bias.buffer));
    }
    return c.digest('hex');
  };
  assert.equal(h(a), h(b));
  assert.equal(h(a).slice(0, 16), process.env.NNSHRINK_DEFAULT_SHA ?? DEFAULT_SHA);
  assert.ok(defaultAccuracy() > 0.9, `accuracy ${defaultAccuracy()}`);
});

const DEFAULT_SHA = 'ce63c46da7162b2a';
