/**
 * The command line: the only layer that parses argv, prints or touches the TTY. Errors in the user's input
 * (NnsError) print one line and exit 2; anything else is a bug, reported in one line with exit 1
 * (NNSHRINK_DEBUG=1 shows the stack).
 */
import { NnsError } from '../errors.ts';
import { parse, type CommandSpec } from './common.ts';
import { infoCommand } from './cmd-info.ts';
import { evalCommand } from './cmd-eval.ts';
import { convertCommand } from './cmd-convert.ts';
import { pruneCommand } from './cmd-prune.ts';
import { checkCommand } from './cmd-check.ts';
import { sliceCommand } from './cmd-slice.ts';
import { verifyCommand } from './cmd-verify.ts';
import { equivCommand } from './cmd-equiv.ts';
import { boundsCommand } from './cmd-bounds.ts';
import { VERSION } from './version.ts';
import { loadMilpSolver } from '../verify/milp.ts';

const COMMANDS: CommandSpec[] = [
  infoCommand,
  evalCommand,
  convertCommand,
  boundsCommand,
  verifyCommand,
  equivCommand,
  pruneCommand,
  checkCommand,
  sliceCommand,
];

export function registerCommand(c: CommandSpec): void {
  COMMANDS.push(c);
}

function help(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `nnshrink ${VERSION}: make trained ReLU networks provably smaller`,
    '',
    'usage: nnshrink COMMAND [options]   (nnshrink COMMAND --help for its options)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Every command takes --json for machine-readable output. Exit codes: 0 ok, 1 a check failed, 2 bad input.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // a reader that stops early (`| head`) closes the pipe: that ends the output, it is not an error to report
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    const [name, ...rest] = argv;
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(help() + '\n');
      return name ? 0 : 2;
    }
    if (name === '--version') {
      process.stdout.write(VERSION + '\n');
      return 0;
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) throw new NnsError(`unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    const { values, positionals } = parse(cmd, rest);
    if (values.help) {
      process.stdout.write(`usage: ${cmd.usage}\n\n${cmd.summary}\n`);
      return 0;
    }
    // commands that run a phase census finish it with the MILP solver (loaded once: WebAssembly compilation); with
    // many inputs, maximising uses it for the LPs of fully split ReLU-splitting nodes
    if (['prune', 'check', 'slice', 'verify', 'equiv'].includes(cmd.name) || (cmd.name === 'bounds' && (values.max !== undefined || values.min !== undefined || values.phase !== undefined))) await loadMilpSolver();
    return await cmd.run(values, positionals);
  } catch (e) {
    if (e instanceof NnsError) {
      process.stderr.write(`nnshrink: error: ${e.message}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`nnshrink: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.NNSHRINK_DEBUG === '1' && err?.stack) process.stderr.write(err.stack + '\n');
    return 1;
  }
}
