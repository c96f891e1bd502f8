/**
 * A problem with the user's input (file, flag, domain). The CLI prints its message as one line and exits 2.
 * Everything else that escapes is a bug in nnshrink and is reported as such.
 */
export class NnsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NnsError';
  }
}

/** Throws an NnsError; handy in expressions. */
export function fail(message: string): never {
  throw new NnsError(message);
}
