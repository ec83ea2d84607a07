/**
 * The commands: each in a file of its own under commands/, loaded only when it runs, so that the
 * start of one command never pays for another's libraries.
 */
import type { Invocation, OptionName } from './args.js';
import { DEFAULT_URL, type Context } from './context.js';
import { NAME } from './errors.js';

export interface CommandModule {
  /** The command's own help, which `<command> --help` and `help <command>` print. */
  help: string;
  /** Runs the command; resolves with its exit code. */
  run(invocation: Invocation, ctx: Context): Promise<number>;
}

export interface Entry {
  synopsis: string;
  summary: string;
  /** How many operands it takes (words after it, not options): one more is a mistake, not something to ignore. */
  operands: number;
  /** The options it takes besides --help and --version: any other is a mistake (`m2m --device` did nothing), never ignored. */
  options: readonly OptionName[];
  /** The options of a login, which it takes only with --obo: without it, no login happens. */
  withObo?: readonly OptionName[];
  load: () => Promise<CommandModule>;
}

/** The options of every command that gets a token, and of a login. */
const TOKEN: readonly OptionName[] = ['url', 'no-cache'];
const LOGIN: readonly OptionName[] = ['device', 'timeout'];

export const COMMANDS: Record<string, Entry> = {
  m2m: {
    synopsis: 'm2m <audience>',
    summary: 'print an app token (client credentials)',
    operands: 1,
    options: TOKEN,
    load: () => import('./commands/m2m.js'),
  },
  obo: {
    synopsis: 'obo <audience> [--device]',
    summary: 'print a token on your behalf (logs you in with the browser the first time)',
    operands: 1,
    options: [...TOKEN, ...LOGIN],
    load: () => import('./commands/obo.js'),
  },
  env: {
    synopsis: 'env <audience> --name VAR [--file F]',
    summary: 'write VAR=<token> into a .env file (default .env), keeping every other line',
    operands: 1,
    options: [...TOKEN, 'name', 'file', 'obo'],
    withObo: LOGIN,
    load: () => import('./commands/env.js'),
  },
  exec: {
    synopsis: 'exec <audience> --name VAR -- <cmd>',
    summary: 'run a command with the token in its environment',
    operands: 1,
    options: [...TOKEN, 'name', 'obo'],
    withObo: LOGIN,
    load: () => import('./commands/exec.js'),
  },
  decode: {
    synopsis: 'decode [<token>]',
    summary: 'show a token\u2019s header, claims and expiry, and check its signature',
    operands: 1,
    options: ['url'],
    load: () => import('./commands/decode.js'),
  },
  logout: {
    synopsis: 'logout',
    summary: 'forget the cached tokens and end the command line\u2019s session',
    operands: 0,
    options: ['url'],
    load: () => import('./commands/logout.js'),
  },
};

export const COMMAND_NAMES = [...Object.keys(COMMANDS), 'help'];

export function mainHelp(): string {
  const width = 39;
  const lines = Object.values(COMMANDS).map((c) => `  ${c.synopsis.padEnd(width)}${c.summary}`);
  return `Usage: ${NAME} <command> [options]

Tokens from the Entra ID token generator, for scripts, shells and .env files.

Commands:
${lines.join('\n')}
  ${'help [<command>]'.padEnd(width)}this text, or a command's own

Options for every command:
  --url <url>       the token generator (default $TOKEN_GENERATOR_URL or ${DEFAULT_URL})
  -h, --help        help for a command, e.g. ${NAME} obo --help or ${NAME} help obo
  --version         the command line's version

Options of the commands that get a token (m2m, obo, env, exec):
  --no-cache        do not use cached tokens

The audience is <cluster>:<namespace>:<app>, for example dev-gcp:my-team:my-app.`;
}
