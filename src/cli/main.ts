/**
 * token-generator: tokens from the token generator for scripts, shells and .env files. This file
 * reads the command line and runs one command; each command is a file of its own in commands/.
 */
import { parseCommandLine, type Invocation } from './args.js';
import { COMMAND_NAMES, COMMANDS, mainHelp, type Entry } from './commands.js';
import type { Io } from './context.js';
import { CliError, NAME } from './errors.js';
import { didYouMean } from './suggest.js';

/** Set by the build (scripts/build-command-line.js) from package.json. */
declare const __CLI_VERSION__: string | undefined;
const VERSION = typeof __CLI_VERSION__ === 'string' ? __CLI_VERSION__ : 'development';

function unknownCommand(word: string): CliError {
  return new CliError(`unknown command "${word}"${didYouMean(word, COMMAND_NAMES)}; see ${NAME} --help`, 2);
}

/** `--help`, `help`, `help <command>` and `--version`; undefined when the command line asks for something else. */
async function information({ command, rest, values }: Invocation): Promise<{ text: string; code: number } | undefined> {
  if (values.version) return { text: `${NAME} ${VERSION}`, code: 0 };
  const topic = command === 'help' ? rest[0] : values.help ? command : undefined;
  if (topic && !COMMANDS[topic]) {
    if (command === 'help') throw new CliError(`unknown command "${topic}"; see ${NAME} --help`, 2);
    throw unknownCommand(topic);
  }
  if (topic) return { text: (await COMMANDS[topic]!.load()).help, code: 0 };
  if (command === 'help' || !command) return { text: mainHelp(), code: command || values.help ? 0 : 2 };
  return undefined;
}

/** Options every command takes: they ask for help or the version, and are answered before any command runs. */
const ALWAYS = new Set(['help', 'version']);

/**
 * An option the command does not take, as a usage error naming those it does: taken and ignored (`m2m --device`,
 * `env --timeout 60` without --obo), it let the user think it did something.
 */
function optionNotTaken(command: string, entry: Entry, values: Invocation['values']): CliError | undefined {
  const given = Object.keys(values).filter((name) => !ALWAYS.has(name));
  const own = new Set<string>(entry.options);
  const login = new Set<string>(entry.withObo ?? []);
  const stray = given.find((name) => !own.has(name) && !(values.obo && login.has(name)));
  if (stray === undefined) return undefined;
  const help = `see ${NAME} ${command} --help`;
  if (login.has(stray))
    return new CliError(`${command} takes --${stray} only with --obo, for the login a token on your behalf may need; ${help}`, 2);
  const takes = [...entry.options, ...(entry.withObo ?? [])].map((name) => `--${name}`).join(', ');
  return new CliError(`${command} does not take --${stray}; its options are ${takes}; ${help}`, 2);
}

export async function run(argv: string[], io: Io): Promise<number> {
  const invocation = parseCommandLine(argv);
  const info = await information(invocation);
  if (info) {
    io.out.write(`${info.text}\n`);
    return info.code;
  }
  const entry = COMMANDS[invocation.command!];
  if (!entry) throw unknownCommand(invocation.command!);
  // A word too many is a mistake (`env <audience> --name T other.env` wrote .env; `obo a b` printed a's token alone), never ignored.
  const extra = invocation.rest[entry.operands];
  if (extra !== undefined) {
    const { command } = invocation;
    const takes = entry.operands === 0 ? 'no operand' : 'one operand';
    const hint = command === 'exec' ? ' (the command to run goes after --)' : '';
    throw new CliError(`${command} takes ${takes}, not also "${extra}"${hint}; see ${NAME} ${command} --help`, 2);
  }
  const notTaken = optionNotTaken(invocation.command!, entry, invocation.values);
  if (notTaken) throw notTaken;
  // The context (its environment variables checked by zod) only for a command that runs, not for help.
  const [command, { contextOf }] = await Promise.all([entry.load(), import('./context.js')]);
  return command.run(invocation, await contextOf(invocation.values, io));
}

/** Output cut short by a closed pipe (`| head -1`) is what the reader wanted: end quietly. */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`${NAME}: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });
}

export async function main(): Promise<void> {
  endQuietlyOnClosedPipe(process.stdout);
  endQuietlyOnClosedPipe(process.stderr);
  try {
    process.exitCode = await run(process.argv.slice(2), { out: process.stdout, err: process.stderr, env: process.env });
  } catch (err) {
    const line = err instanceof CliError ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
    process.stderr.write(`${NAME}: ${line}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  }
}
