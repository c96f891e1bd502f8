/** A slice family as the command line meets it: a family directory or the single ONNX file, read the same way. */
import { loadModel } from '../formats/load.ts';
import { forward, type Network } from '../model/network.ts';
import type { Box } from '../model/box.ts';
import { isFamilyDirectory, readFamily, type FamilyManifest } from '../slice/family.ts';
import { readFamilyOnnx } from '../slice/family-onnx.ts';
import { locate } from '../slice/dispatch.ts';
import type { SplitTree } from '../slice/partition.ts';

export interface FamilyView {
  path: string;
  kind: 'directory' | 'onnx';
  root: Box;
  /** a domain of several boxes (root is their hull) */
  regions?: Box[];
  tree: SplitTree;
  count: number;
  /** slice i's network (loaded on first use) */
  net(i: number): Network;
  /** the directory's manifest (sizes of the source network and the slices, certificates) */
  manifest?: FamilyManifest;
}

/** The slice family at `p` (a family directory or its single ONNX file), or null when `p` is anything else. */
export function openFamily(p: string): FamilyView | null {
  if (isFamilyDirectory(p)) {
    const fam = readFamily(p);
    const nets = new Map<number, Network>();
    return {
      path: p,
      kind: 'directory',
      root: fam.root,
      regions: fam.regions,
      tree: fam.manifest.tree,
      count: fam.manifest.slices.length,
      manifest: fam.manifest,
      net(i) {
        if (!nets.has(i)) nets.set(i, loadModel(fam.networkPath(i)).network);
        return nets.get(i)!;
      },
    };
  }
  const f = readFamilyOnnx(p);
  return f && { path: p, kind: 'onnx', root: f.root, regions: f.regions, tree: f.tree, count: f.nets.length, net: (i) => f.nets[i] };
}

export function evalFamilyAt(fam: FamilyView, x: number[]): { input: number[]; slice: number; output: number[] } {
  const i = locate(fam.tree, fam.root, x, 0, fam.regions);
  return { input: x, slice: i, output: Array.from(forward(fam.net(i), Float64Array.from(x))) };
}
