import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../formats/load.ts';
import { familyEval, readFamily } from '../slice/family.ts';
import type { Network } from '../model/network.ts';

export function isFamilyPath(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory() && existsSync(join(p, 'family.json'));
}

const cache = new Map<string, Network>();

export function evalFamilyAt(dir: string, x: number[]): { input: number[]; slice: number; output: number[] } {
  const fam = readFamily(dir);
  const r = familyEval(
    fam,
    (i) => {
      const p = fam.networkPath(i);
      if (!cache.has(p)) cache.set(p, loadModel(p).network);
      return cache.get(p)!;
    },
    x,
  );
  return { input: x, slice: r.slice, output: Array.from(r.output) };
}
