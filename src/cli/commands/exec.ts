import { spawn } from 'node:child_process';
import type { Invocation } from '../args.js';
import { tokenFor } from '../app-token.js';
import { audienceOf, variableOf } from '../operands.js';
import type { Context } from '../context.js';
import { CliError, NAME } from '../errors.js';

export const help = `Usage: ${NAME} exec <audience> --name VAR [--obo] [--url URL] [--no-cache] -- <command> [args...]

Runs the command with VAR=<token> in its environment and exits with its exit code.`;

/** Runs `command` with the token in the variable `name`, and ends as it ends. */
function runWithToken(ctx: Context, command: string[], name: string, token: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...ctx.env, [name]: token } });
    child.on('error', (err) => reject(new CliError(`cannot run ${command[0]}: ${err.message}`, 127)));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export async function run({ rest, after, values }: Invocation, ctx: Context): Promise<number> {
  const audience = audienceOf('exec', rest);
  const name = variableOf('exec', values.name);
  if (after.length === 0) throw new CliError(`exec needs a command after --, e.g. ${NAME} exec ${audience} --name TOKEN -- ./script.sh`, 2);
  return runWithToken(ctx, after, name, await tokenFor(ctx, audience, values.obo ?? false));
}
