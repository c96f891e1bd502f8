/** Jobs for the pool's test: plain functions of plain data, one that fails with a user error. */
import { threadId } from 'node:worker_threads';
import { fail } from '../../src/errors.ts';

export function square(x: number): { value: number; thread: number } {
  if (x < 0) fail(`job: ${x} is negative`);
  return { value: x * x, thread: threadId };
}

export async function later(x: number): Promise<string> {
  await new Promise((r) => setTimeout(r, 5));
  return `#${x}`;
}

/** A session's state, made once per worker. */
export function makeBase(job: { base: number }): { base: number } {
  return { base: job.base };
}

export function addBase(x: number, state: { base: number }): { value: number; thread: number } {
  return { value: x + state.base, thread: threadId };
}
