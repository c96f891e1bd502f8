/**
 * What went wrong, as the exit codes name it (docs/exit-codes.md): `bad-input` 2 (a file, an option, a domain, a
 * certificate that is malformed), `refuted` 1 (a counterexample re-checked by evaluation), `not-proved` 3 (the
 * limits came first: nothing licensed, nothing written), `internal` 4 (a bug in nnshrink), `aborted` (the caller's
 * AbortSignal: never "proved", nothing written; the CLI has no such outcome).
 */
export type NnsErrorCode = 'bad-input' | 'refuted' | 'not-proved' | 'internal' | 'aborted';

/** The exit code of each error code (an abort exits as a question left open). */
export const EXIT_OF_CODE: Readonly<Record<NnsErrorCode, number>> = { 'bad-input': 2, refuted: 1, 'not-proved': 3, internal: 4, aborted: 3 };

/** Where an error is: the file (a path as given) and the place in it (a line, a node, an option), when known. */
export interface NnsErrorDetails {
  /** what went wrong; default `bad-input` */
  code?: NnsErrorCode;
  /** the file the problem is in, as the caller named it */
  file?: string;
  /** the place in the file (`line 12`, `node 'conv1' (Conv)`) or the option (`--domain`) */
  place?: string;
}

/**
 * The one error class of nnshrink: bad input, and the outcomes that end a command without its result (refuted, not
 * proved, aborted). Its message is one printable line (at most 280 characters) naming the file, the place and the
 * problem, as the CLI prints it; `code`, `file` and `place` say the same for a program. An abort has the name
 * `AbortError` (as fetch's), and is an NnsError too. Everything else that escapes nnshrink is a bug.
 */
export class NnsError extends Error {
  readonly code: NnsErrorCode;
  /** the file the problem is in (from the details, or the message's leading `FILE: `), if any */
  file?: string;
  /** the place in the file or the option (from the details, or the message's second `PLACE: `), if any */
  place?: string;

  constructor(message: string, details: NnsErrorDetails = {}) {
    super(safeMessage(message));
    this.code = details.code ?? 'bad-input';
    this.name = this.code === 'aborted' ? 'AbortError' : 'NnsError';
    const where = details.file === undefined ? locate(this.message) : { file: details.file, place: details.place ?? placeAfter(this.message, details.file) };
    if (where.file !== undefined) this.file = where.file;
    const place = details.place ?? where.place;
    if (place !== undefined) this.place = place;
  }

  /** The exit code the CLI ends with for this error (docs/exit-codes.md). */
  get exitCode(): number {
    return EXIT_OF_CODE[this.code];
  }
}

/** The code of an exit status (1 refuted, 3 not proved, 4 internal, else bad input). */
export function codeOfExit(exit: number): NnsErrorCode {
  return exit === 1 ? 'refuted' : exit === 3 ? 'not-proved' : exit === 4 ? 'internal' : 'bad-input';
}

// the messages' own convention: `FILE: PLACE: problem`, `FILE:LINE: problem`, `FILE: problem`, `--option: problem`
// (a path has no spaces)
const PATHLIKE = /^[^\s:'"]*[./][^\s:'"]*$/;
const PLACELIKE = /^(line \d+|byte \d+|node .{1,80}|layer \d+.{0,40}|box \d+|slice \d+|region \d+|tensor .{1,80}|initializer .{1,80}|input .{1,60}|output .{1,60})$/;

/** The file and the place a message names by the convention above, when it does. */
function locate(message: string): { file?: string; place?: string } {
  const parts = message.split(': ');
  if (parts.length < 2) return {};
  const head = parts[0];
  if (/^--?[a-z][a-z-]*$/i.test(head)) return { place: head };
  const opt = /^(--?[a-z][a-z-]*) (\S+)$/i.exec(head); // `-o OUT:`, `--certificate C:` (an output's problem)
  if (opt && PATHLIKE.test(opt[2])) return { file: opt[2], place: opt[1] };
  const line = /^(\S+):(\d+)$/.exec(head); // `FILE:LINE: problem`, as compilers write it (the NNet reader does)
  if (line && PATHLIKE.test(line[1])) return { file: line[1], place: `line ${line[2]}` };
  if (!PATHLIKE.test(head)) return {};
  return parts.length > 2 && PLACELIKE.test(parts[1]) ? { file: head, place: parts[1] } : { file: head };
}

function placeAfter(message: string, file: string): string | undefined {
  const line = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): `).exec(message);
  if (line) return `line ${line[1]}`;
  if (!message.startsWith(`${file}: `)) return undefined;
  const parts = message.slice(file.length + 2).split(': ');
  return parts.length > 1 && PLACELIKE.test(parts[0]) ? parts[0] : undefined;
}

/** Throws an NnsError; handy in expressions. */
export function fail(message: string, details?: NnsErrorDetails): never {
  throw new NnsError(message, details);
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

/** A number for a message: 4 significant digits, exponent form when very large or small. */
export function fmt(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(digits - 1) : Number(x.toPrecision(digits)).toString();
}
