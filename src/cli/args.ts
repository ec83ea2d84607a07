/** The command line's words: the command, its arguments, its options, and what follows `--`. */
import { parseArgs } from 'node:util';
import { CliError, NAME } from './errors.js';
import { didYouMean } from './suggest.js';

export const OPTIONS = {
  url: { type: 'string' },
  'no-cache': { type: 'boolean' },
  obo: { type: 'boolean' },
  name: { type: 'string' },
  file: { type: 'string' },
  timeout: { type: 'string' },
  device: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export type OptionName = keyof typeof OPTIONS;

const FLAGS = Object.keys(OPTIONS);

/** Node's parser explains in three sentences; one line naming the flag (and the one meant) is what a reader needs. */
function usageError(err: unknown): CliError {
  const message = err instanceof Error ? err.message : String(err);
  const flag = /'(-{1,2}[^'\s=<]+)/.exec(message)?.[1] ?? 'an option';
  const code = (err as { code?: string }).code;
  const what =
    code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
      ? `unknown option ${flag}${flag.startsWith('--') ? didYouMean(flag.slice(2), FLAGS, (f) => `--${f}`) : ''}`
      : /argument missing/.test(message)
        ? `option ${flag} needs a value`
        : /does not take an argument/.test(message)
          ? `option ${flag} takes no value`
          : `option ${flag} is not valid here`;
  return new CliError(`${what}; see ${NAME} --help`, 2);
}

export type Options = ReturnType<typeof parse>['values'];

function parse(own: string[]) {
  return parseArgs({ args: own, allowPositionals: true, options: OPTIONS });
}

/** What a command was given: the words after it, the command to run after `--`, the options. */
export interface Invocation {
  command?: string;
  rest: string[];
  after: string[];
  values: Options;
}

export function parseCommandLine(argv: string[]): Invocation {
  const dashDash = argv.indexOf('--');
  const own = dashDash === -1 ? argv : argv.slice(0, dashDash);
  let parsed;
  try {
    parsed = parse(own);
  } catch (err) {
    throw usageError(err);
  }
  const [command, ...rest] = parsed.positionals;
  return { ...(command ? { command } : {}), rest, after: dashDash === -1 ? [] : argv.slice(dashDash + 1), values: parsed.values };
}
