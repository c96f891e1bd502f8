/**
 * The command line: the only layer that parses argv, prints or touches the TTY. Exit codes (docs/exit-codes.md):
 * 0 done / holds, 1 refuted, 2 bad input, 3 unknown / not proved, 4 internal error. Errors in the user's input
 * (NnsError) print one line and exit 2; an ExitError prints its line with its own code; anything else is a bug,
 * reported in one line with exit 4 (NNSHRINK_DEBUG=1 shows the stack).
 */
import { NnsError } from '../errors.ts';
import { EXIT, ExitError, parse, type CommandSpec } from './common.ts';
import { VERSION } from '../version.ts';
import { didYouMean } from './suggest.ts';
import { loadMilpSolver } from '../verify/search/milp.ts';

/**
 * Each command's module, imported only when it runs (or for the full help): a start loads what one command needs,
 * not all of them (compiled `info` on ACAS Xu: imports of every command about double those of `info` alone).
 */
const LOADERS: ReadonlyArray<readonly [string, () => Promise<CommandSpec>]> = [
  ['info', async () => (await import('./cmd-info.ts')).infoCommand],
  ['eval', async () => (await import('./cmd-eval.ts')).evalCommand],
  ['convert', async () => (await import('./cmd-convert.ts')).convertCommand],
  ['bounds', async () => (await import('./cmd-bounds.ts')).boundsCommand],
  ['verify', async () => (await import('./cmd-verify.ts')).verifyCommand],
  ['equiv', async () => (await import('./cmd-equiv.ts')).equivCommand],
  ['prune', async () => (await import('./cmd-prune.ts')).pruneCommand],
  ['quantize', async () => (await import('./cmd-quantize.ts')).quantizeCommand],
  ['check', async () => (await import('./cmd-check.ts')).checkCommand],
  ['slice', async () => (await import('./cmd-slice.ts')).sliceCommand],
  ['worker', async () => (await import('./cmd-worker.ts')).workerCommand],
];

/** commands added at run time (tests), after the built-in ones */
const REGISTERED: CommandSpec[] = [];

export function registerCommand(c: CommandSpec): void {
  REGISTERED.push(c);
}

const commandNames = (): string[] => [...LOADERS.map(([name]) => name), ...REGISTERED.map((c) => c.name)];

async function allCommands(): Promise<CommandSpec[]> {
  return [...(await Promise.all(LOADERS.map(([, load]) => load()))), ...REGISTERED];
}

async function help(): Promise<string> {
  const commands = await allCommands();
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    `nnshrink ${VERSION}: make trained ReLU networks provably smaller`,
    '',
    'usage: nnshrink COMMAND [options]   (nnshrink COMMAND --help for its options)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'nnshrink help COMMAND (or COMMAND --help): its usage and options; nnshrink --version: the version.',
    'Every command takes --json for machine-readable output.',
    'Exit codes: 0 done / the claim holds (verify: unsat; equiv, check: proved), 1 refuted (verify: sat with a',
    're-checked counterexample), 2 bad input, 3 unknown / not proved within the limits, 4 internal error (a bug).',
  ].join('\n');
}

/** One command's help: `nnshrink help COMMAND` and `nnshrink COMMAND --help`. */
function commandHelp(cmd: CommandSpec): string {
  return `usage: ${cmd.usage}\n\n${cmd.summary}\n${cmd.exits ? `exit codes: ${cmd.exits}; 2 bad input, 4 internal error\n` : ''}`;
}

/** The command named `name`, or a one-line error naming the nearest one. */
async function findCommand(name: string): Promise<CommandSpec> {
  const added = REGISTERED.find((c) => c.name === name);
  if (added) return added;
  const loader = LOADERS.find(([n]) => n === name);
  if (loader) return loader[1]();
  const names = commandNames();
  throw new NnsError(`unknown command '${name}'${didYouMean(name, names)} (commands: ${names.join(', ')}; nnshrink --help)`);
}

/** The longest error line printed (a reader's own message is short already: this is the last guard). */
export const MAX_ERROR_LINE = 300;

// control, format (bidi overrides, zero-width), private-use, unassigned, line/paragraph separators, lone surrogates
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** `prefix + message` as one printable line of at most MAX_ERROR_LINE characters (non-printables as \xNN, \u{..}). */
export function errorLine(prefix: string, message: string): string {
  // cut first: a message may quote megabytes of a bad file, and only the start is shown
  const head = String(message).slice(0, 4 * MAX_ERROR_LINE);
  const escaped = head.replace(NON_PRINTABLE, (ch) => {
    const c = ch.codePointAt(0)!;
    return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u{${c.toString(16)}}`;
  });
  const chars = Array.from(prefix + escaped);
  return chars.length <= MAX_ERROR_LINE && head.length === String(message).length ? chars.join('') : `${chars.slice(0, MAX_ERROR_LINE - 1).join('')}…`;
}

export async function main(argv: string[]): Promise<number> {
  // a reader that stops early (`| head`) closes the pipe: that ends the output, it is not an error to report
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    const [name, ...rest] = argv;
    if (name === 'help' && rest.length) {
      if (rest.length > 1) throw new NnsError(`help: one command at a time (got ${rest.length}: ${rest.join(' ')})`);
      process.stdout.write(commandHelp(await findCommand(rest[0])));
      return 0;
    }
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write((await help()) + '\n');
      return name ? 0 : 2;
    }
    if (name === '--version' || name === '-V') {
      process.stdout.write(VERSION + '\n');
      return 0;
    }
    if (name.startsWith('-')) {
      const hint = didYouMean(name.replace(/^--?/, ''), ['help', 'version'], '--');
      throw new NnsError(`unknown option '${name}'${hint || ' (options go after the command: nnshrink COMMAND [options]; nnshrink --help)'}`);
    }
    const cmd = await findCommand(name);
    const { values, positionals } = parse(cmd, rest);
    if (values.help) {
      process.stdout.write(commandHelp(cmd));
      return 0;
    }
    // commands that run a phase census finish it with the MILP solver (loaded once: WebAssembly compilation); with
    // many inputs, maximising uses it for the LPs of fully split ReLU-splitting nodes
    if (['prune', 'check', 'slice', 'verify', 'equiv'].includes(cmd.name) || (cmd.name === 'bounds' && (values.max !== undefined || values.min !== undefined || values.phase !== undefined))) await loadMilpSolver();
    return await cmd.run(values, positionals);
  } catch (e) {
    if (e instanceof ExitError) {
      process.stderr.write(errorLine('nnshrink: ', e.message) + '\n');
      return e.exitCode;
    }
    if (e instanceof NnsError) {
      process.stderr.write(errorLine('nnshrink: error: ', e.message) + '\n');
      return EXIT.badInput;
    }
    const err = e as Error;
    process.stderr.write(errorLine('nnshrink: internal error: ', err?.message ?? String(e)) + '\n');
    if (process.env.NNSHRINK_DEBUG === '1' && err?.stack) process.stderr.write(err.stack + '\n');
    return EXIT.internal;
  }
}
