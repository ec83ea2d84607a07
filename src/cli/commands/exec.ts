import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import type { Invocation } from '../args.js';
import { tokenFor } from '../app-token.js';
import { audienceOf, variableOf } from '../operands.js';
import type { Context } from '../context.js';
import { CliError, NAME } from '../errors.js';

export const help = `Usage: ${NAME} exec <audience> --name VAR [--obo [--device] [--timeout SECONDS]] [--url URL] [--no-cache]
         -- <command> [args...]

Runs the command with VAR=<token> in its environment and exits with its exit code. Ctrl-C and kill reach the
command once, and it ends as it chooses; a command ended by a signal exits with 128 plus the signal's number.
At a terminal, Ctrl-C reaches the command from the terminal: send SIGTERM to stop it with kill.
--obo gets a token on your behalf instead of an app token; --device and --timeout then work as for obo.`;

/** Signals passed on to the command: Ctrl-C, `kill`, a closed terminal. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * How the command hears each signal exactly once. A terminal's Ctrl-C signals its whole foreground process group: this
 * process and the command both. Passed on as well, the command heard SIGINT twice, and many programs take a second
 * Ctrl-C as "force quit". Which of the two sent a SIGINT, the terminal or `kill`, a Node.js process cannot tell (the
 * sender is in the signal's siginfo, which Node.js does not show), so:
 *
 * - With a controlling terminal the command stays in this process's group, the terminal's foreground: it reads the
 *   keyboard, and Ctrl-C, Ctrl-Z and Ctrl-\ reach it from the terminal as if it ran alone; SIGINT is left to the
 *   terminal. A group of its own would not be the terminal's foreground, and a command that reads the terminal (a shell
 *   script's `read`, a dev server's keys, sudo's password) would be stopped, as Node.js cannot hand the terminal over.
 *   So a `kill -INT` of this process alone does not reach the command there: `kill` (SIGTERM) does.
 * - Without one (a script's, a CI job's, a supervisor's child), the command gets a process group of its own and every
 *   signal this process gets is passed on: a signal to this process alone, and one to its whole group (`kill -INT
 *   -<pgid>`), each reach the command once.
 *
 * SIGTERM and SIGHUP are passed on in both: `kill` signals this process alone, and a second SIGHUP of a closed terminal
 * ends nothing more than the first.
 */
function signalRouting(): { ownGroup: boolean; forwarded: readonly NodeJS.Signals[] } {
  // Windows has no process groups to speak of, and a detached child gets a console window of its own there.
  if (process.platform === 'win32' || hasControllingTerminal()) return { ownGroup: false, forwarded: ['SIGTERM', 'SIGHUP'] };
  return { ownGroup: true, forwarded: FORWARDED };
}

/** Whether this process has a controlling terminal: its standard streams may all be files or pipes while it has one. */
function hasControllingTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `command` with the token in the variable `name`, and ends as it ends: a signal sent to this process goes to the
 * command, which ends as it chooses (a dev server shuts down), and this process waits for it. Without that, Ctrl-C ended
 * this process at once, the shell's prompt came back while the command still wrote, and a `kill` left it running alone.
 * A command ended by a signal exits as a shell says it: 128 plus the signal's number.
 */
function runWithToken(ctx: Context, command: string[], name: string, token: string): Promise<number> {
  const { ownGroup, forwarded } = signalRouting();
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), {
      stdio: 'inherit',
      env: { ...ctx.env, [name]: token },
      detached: ownGroup,
    });
    // Each is taken, so that none ends this process before the command; those the command hears by itself are not passed on.
    const forward = (signal: NodeJS.Signals) => {
      if (forwarded.includes(signal)) child.kill(signal);
    };
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
