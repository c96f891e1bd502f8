/**
 * The worker's cache of files that came with jobs (an instance's model and property): each under the SHA-256 of
 * its bytes, with its own name, so the CLI's readers (which go by the name's extension) read it as given, and a file
 * shared by many jobs is written once.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.ts';
import { blobHash } from './wire.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

/** The path of `bytes` named `name` in the cache (written there first if it is not). */
export function cachedFile(dir: string, name: unknown, bytes: Uint8Array, where: string): string {
  // a plain file name: no directory part, no '..', nothing a shell or a path join would read otherwise
  if (typeof name !== 'string' || !NAME.test(name) || name.includes('..')) fail(`${where}: not a plain file name`);
  const sub = join(dir, blobHash(bytes));
  const path = join(sub, name);
  if (existsSync(path)) return path;
  mkdirSync(sub, { recursive: true });
  // complete or absent: another thread of this worker may read it at once
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return path;
}
