/**
 * Locates ../shared/nets (real networks that a fresh clone of nnshrink does not have).
 * Tests that need them call `sharedOrSkip(t)` and skip with a clear message when they are absent.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED_NETS = process.env.NNSHRINK_SHARED_NETS ?? resolve(here, '../../../shared/nets');
export const HAVE_SHARED = existsSync(join(SHARED_NETS, 'README.md'));
export const SKIP_SHARED = HAVE_SHARED ? false : `../shared/nets not found at ${SHARED_NETS}: skipping tests on real networks`;

export function acasNnet(i: number, j: number): string {
  return join(SHARED_NETS, 'acasxu', 'nnet', `ACASXU_run2a_${i}_${j}_batch_2000.nnet`);
}
export function acasOnnx(i: number, j: number): string {
  return join(SHARED_NETS, 'acasxu', 'onnx', `ACASXU_run2a_${i}_${j}_batch_2000.onnx`);
}
export function sharedPath(...parts: string[]): string {
  return join(SHARED_NETS, ...parts);
}

/** Every ONNX network under ../shared/nets/cnn, sorted. */
export function sharedCnnFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.onnx')) out.push(join(d, e.name));
    }
  };
  walk(sharedPath('cnn'));
  return out.sort();
}
