/**
 * A problem with the user's input (file, flag, domain). The CLI prints its message as one line and exits 2.
 * Everything else that escapes is a bug in nnshrink and is reported as such.
 */
export class NnsError extends Error {
  constructor(message: string) {
    super(safeMessage(message));
    this.name = 'NnsError';
  }
}

/** Throws an NnsError; handy in expressions. */
export function fail(message: string): never {
  throw new NnsError(message);
}

/**
 * The longest NnsError message: the CLI prefixes "nnshrink: error: " (17 characters), and the printed line must stay
 * within 300 characters.
 */
export const MAX_MESSAGE = 280;

/** How much of a bad token a message quotes (escapes count as written). */
export const MAX_QUOTED = 40;

const hex2 = (b: number): string => `\\x${b.toString(16).padStart(2, '0')}`;

/**
 * A piece of input text for a message, in single quotes: see `printable`. A file of NUL bytes cannot make a huge or
 * multi-line error.
 */
export function quote(token: string): string {
  return `'${printable(token)}'`;
}

/**
 * Input text as it may appear in a message: at most MAX_QUOTED characters, then '…'; every character that is not
 * printable ASCII written as \xNN, one per byte of its UTF-8 encoding.
 */
export function printable(token: string): string {
  let out = '';
  for (const ch of token) {
    const c = ch.codePointAt(0)!;
    const piece = c >= 0x20 && c < 0x7f ? ch : Array.from(Buffer.from(ch, 'utf8'), hex2).join('');
    if (out.length + piece.length > MAX_QUOTED) return `${out}…`;
    out += piece;
  }
  return out;
}

// control, format (bidi overrides, zero-width), private-use, unassigned, line/paragraph separators, lone surrogates
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Cs}]/gu;

/**
 * A message as one printable line of at most MAX_MESSAGE characters: non-printable characters escaped (\xNN, or
 * \u{...} above 0xff; backslashes are left alone so that escaping twice changes nothing); then, if still too long,
 * long words (paths) cut in the middle keeping their ends, the file name among them; then the end cut.
 */
export function safeMessage(message: string): string {
  let s = String(message);
  // a message that quoted a whole file: keep its two ends only, so the work below stays small
  if (s.length > 8 * MAX_MESSAGE) s = `${s.slice(0, 4 * MAX_MESSAGE)}…${s.slice(-2 * MAX_MESSAGE)}`;
  s = s.replace(NON_PRINTABLE, (ch) => {
    const c = ch.codePointAt(0)!;
    return c <= 0xff ? hex2(c) : `\\u{${c.toString(16)}}`;
  });
  if (s.length <= MAX_MESSAGE) return s;
  s = s.replace(/\S{61,}/g, (w) => {
    const slash = w.lastIndexOf('/', w.length - 2);
    const tail = slash >= 0 ? w.slice(Math.max(slash, w.length - 40)) : w.slice(-20);
    return `${w.slice(0, 20)}…${tail}`;
  });
  return s.length <= MAX_MESSAGE ? s : `${s.slice(0, MAX_MESSAGE - 1)}…`;
}
