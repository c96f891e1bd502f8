/**
 * Outputs written safely. Every output path is checked before a command computes anything (checkOutputs), and a
 * command's outputs are written as one set (writeFilesAtomic): each to a temporary sibling first, then all renamed
 * into place; on any failure every temporary and every output already placed is removed and what was there before
 * is put back, so a failed or interrupted run never leaves a partly written output or half a set.
 */
import { linkSync, mkdirSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fail, NnsError } from '../errors.ts';

export type Data = string | Uint8Array;
/** one file, or a directory of files (a slice family) */
export type Output = { path: string; data: Data } | { path: string; files: Array<{ name: string; data: Data }> };

export function writeFileAtomic(path: string, data: Data): void {
  writeFilesAtomic([{ path, data }]);
}

interface Placed {
  path: string;
  tmp: string;
  /** what was at `path` before, moved (a directory) or linked (a file) aside until the set is in place */
  old?: string;
  placed?: boolean;
}

/** Writes all outputs or none: temporaries first, then the renames; a failure undoes the renames already done. */
export function writeFilesAtomic(outputs: Output[]): void {
  const tag = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const done: Placed[] = [];
  let current = outputs[0]?.path ?? '';
  try {
    for (const o of outputs) {
      current = o.path;
      const isDir = 'files' in o;
      const st = statOrNull(o.path);
      if (st && st.isDirectory() !== isDir) fail(`${o.path}: ${isDir ? 'exists and is not a directory' : 'is a directory'}; not overwriting it`);
      const p: Placed = { path: o.path, tmp: sibling(o.path, 'tmp', tag) };
      done.push(p);
      if (isDir) {
        mkdirSync(p.tmp);
        for (const f of o.files) writeFileSync(join(p.tmp, f.name), f.data);
      } else writeFileSync(p.tmp, o.data, { flag: 'wx' });
    }
    for (const p of done) {
      current = p.path;
      const st = statOrNull(p.path);
      if (st) {
        p.old = sibling(p.path, 'old', tag);
        if (st.isDirectory()) renameSync(p.path, p.old);
        else linkOrCopyAside(p.path, p.old);
      }
      renameSync(p.tmp, p.path);
      p.placed = true;
    }
  } catch (e) {
    undo(done);
    if (e instanceof NnsError) throw e;
    const err = e as NodeJS.ErrnoException;
    fail(`${current}: cannot write (${err.code ?? err.message})`);
  }
  for (const p of done) if (p.old) rmSync(p.old, { recursive: true, force: true });
}

/** A hard link keeps the old file in place until the rename replaces it (where links are refused: moved aside). */
function linkOrCopyAside(path: string, old: string): void {
  try {
    linkSync(path, old);
  } catch {
    renameSync(path, old);
  }
}

function undo(done: Placed[]): void {
  for (const p of [...done].reverse()) {
    try {
      rmSync(p.tmp, { recursive: true, force: true });
      if (p.placed) rmSync(p.path, { recursive: true, force: true });
      if (p.old) renameSync(p.old, p.path);
    } catch {
      // best effort: the error being reported is the one that matters
    }
  }
}

function sibling(path: string, kind: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.${kind}-${tag}`);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** An output a command will write: `what` names it in messages (`-o`, `--certificate`, ...). */
export interface PlannedOutput {
  path: string;
  what: string;
  kind: 'file' | 'dir';
}

/** An input a command reads (a model, a property, a list): no output may replace it. */
export interface NamedInput {
  path: string;
  what: string;
}

/**
 * Refuses, in one line and before any work, an output that cannot be written (no such directory, a path through a
 * regular file, a read-only directory, a directory where a file goes or the reverse), two outputs that are the same
 * file, an output that is an input, and an input inside an output directory (a family directory is replaced whole).
 */
export function checkOutputs(outputs: PlannedOutput[], inputs: NamedInput[]): void {
  const probed = new Set<string>();
  const outs = outputs.map((o) => ({ ...o, real: checkWritable(o, probed), role: 'the output' }));
  const ins = inputs.flatMap((i): Array<PlannedOutput & { real: string; role: string }> => {
    const real = realOrNull(i.path);
    return real === null ? [] : [{ ...i, kind: 'file', real, role: 'the input' }];
  });
  // the same file under two names (a hard link) is the same file
  const key = (real: string): string => {
    const st = statOrNull(real);
    return st ? `${st.dev}:${st.ino}` : real;
  };
  const taken = new Map(ins.map((i) => [key(i.real), i] as const));
  for (const o of outs) {
    const other = taken.get(key(o.real));
    if (other) fail(`${o.what} ${o.path}: the same file as ${other.role} ${other.what} ${other.path}; give another path`);
    taken.set(key(o.real), o);
  }
  for (const d of outs.filter((o) => o.kind === 'dir')) {
    for (const other of [...outs, ...ins]) {
      if (other !== d && inside(other.real, d.real)) fail(`${d.what} ${d.path}: ${other.role} ${other.what} ${other.path} is inside it, and the directory is replaced whole; give another path`);
    }
  }
}

/** The output's real path (its directory's real path and its name) once the directory is shown writable. */
function checkWritable(o: PlannedOutput, probed: Set<string>): string {
  const abs = resolve(o.path);
  const dir = dirname(abs);
  const st = statOrNull(abs);
  if (st && o.kind === 'file' && st.isDirectory()) fail(`${o.what} ${o.path}: is a directory`);
  if (st && o.kind === 'dir' && !st.isDirectory()) fail(`${o.what} ${o.path}: exists and is not a directory`);
  const dst = statOrNull(dir);
  if (!dst || !dst.isDirectory()) fail(`${o.what} ${o.path}: cannot write (${notDirectory(dir)})`);
  // permissions alone do not tell (read-only mounts, ACLs): create and remove a file there
  if (!probed.has(dir)) probeWrite(o, dir);
  probed.add(dir);
  return st ? realpathSync(abs) : join(realpathSync(dir), basename(abs));
}

function probeWrite(o: PlannedOutput, dir: string): void {
  const probe = join(dir, `.nnshrink-probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    writeFileSync(probe, '', { flag: 'wx' });
    unlinkSync(probe);
  } catch (e) {
    fail(`${o.what} ${o.path}: cannot write (the directory ${dir} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Why `dir` is no directory: the first part of it that is a file, or that it does not exist. */
function notDirectory(dir: string): string {
  let d = dir;
  for (;;) {
    const st = statOrNull(d);
    if (st) return st.isDirectory() ? `no directory ${dir}` : `${d} is a file, not a directory`;
    const up = dirname(d);
    if (up === d) return `no directory ${dir}`;
    d = up;
  }
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function inside(p: string, dir: string): boolean {
  return p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}
