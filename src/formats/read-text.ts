/**
 * Reading input files (models, properties, certificates, instance lists) with one-line errors: missing, a directory,
 * not a regular file (a FIFO would block forever, a device never ends), too large, unreadable.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { fail } from '../errors.ts';

/**
 * The largest input file read: 256 MiB. Far above any network nnshrink can verify (67 million float32 weights), and
 * below what a text file can become as one string (V8's limit is about 512 MiB), so a huge file is refused before
 * it is read.
 */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

const tooLarge = (path: string, size: number): never =>
  fail(`${path}: too large (${size} bytes; input files are limited to ${MAX_INPUT_BYTES} bytes, 256 MiB)`);

export function readInputFile(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch {
    fail(`${path}: no such file`);
  }
  if (!st.isFile()) fail(`${path}: is ${kind(st)}, expected a regular file`);
  if (st.size > MAX_INPUT_BYTES) tooLarge(path, st.size);
  let fd: number;
  try {
    // non-blocking: should the path be swapped for a FIFO after the check above, opening it does not wait for a writer
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    fail(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const now = fstatSync(fd);
    if (!now.isFile()) fail(`${path}: is ${kind(now)}, expected a regular file`);
    return readAtMost(fd, path, now.size);
  } finally {
    closeSync(fd);
  }
}

/** The file's bytes (room for one more than its size, so the end is seen without growing), refusing it if it grows
 * past the limit while being read. */
function readAtMost(fd: number, path: string, size: number): Buffer {
  let buf = Buffer.allocUnsafe(Math.min(MAX_INPUT_BYTES + 1, Math.max(size + 1, 4096)));
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      if (len > MAX_INPUT_BYTES) tooLarge(path, len);
      const bigger = Buffer.allocUnsafe(Math.min(MAX_INPUT_BYTES + 1, buf.length * 2));
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    let n: number;
    try {
      n = readSync(fd, buf, len, buf.length - len, null);
    } catch (e) {
      fail(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (n === 0) break;
    len += n;
  }
  if (len > MAX_INPUT_BYTES) tooLarge(path, len);
  return buf.subarray(0, len);
}
