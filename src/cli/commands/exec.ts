import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Invocation } from '../args.js';
import { tokenFor } from '../app-token.js';
import { audienceOf, variableOf } from '../operands.js';
import type { Context } from '../context.js';
import { CliError, NAME } from '../errors.js';

export const help = `Usage: ${NAME} exec <audience> --name VAR [--obo [--device] [--timeout SECONDS]] [--url URL] [--no-cache]
         -- <command> [args...]

Runs the command with VAR=<token> in its environment and exits with its exit code. Ctrl-C and kill go on to
the command, which ends as it chooses; a command ended by a signal exits with 128 plus the signal's number.
--obo gets a token on your behalf instead of an app token; --device and --timeout then work as for obo.`;

/** Signals passed on to the command: Ctrl-C, `kill`, a closed terminal. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs `command` with the token in the variable `name`, and ends as it ends: a signal sent to this process goes to the
 * command, which ends as it chooses (a dev server shuts down), and this process waits for it. Without that, Ctrl-C ended
 * this process at once, the shell's prompt came back while the command still wrote, and a `kill` left it running alone.
 * A command ended by a signal exits as a shell says it: 128 plus the signal's number.
 */
function runWithToken(ctx: Context, command: string[], name: string, token: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...ctx.env, [name]: token } });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of FORWARDED) process.on(signal, forward);
    const done = () => {
      for (const signal of FORWARDED) process.off(signal, forward);
    };
    child.on('error', (err) => {
      done();
      reject(new CliError(`cannot run ${command[0]}: ${err.message}`, 127));
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
    });
  });
}

export async function run({ rest, after, values }: Invocation, ctx: Context): Promise<number> {
  const audience = audienceOf('exec', rest);
  const name = variableOf('exec', values.name);
  if (after.length === 0) throw new CliError(`exec needs a command after --, e.g. ${NAME} exec ${audience} --name TOKEN -- ./script.sh`, 2);
  return runWithToken(ctx, after, name, await tokenFor(ctx, audience, values.obo ?? false));
}
