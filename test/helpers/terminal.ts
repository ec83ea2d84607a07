/**
 * A command run in a terminal of its own, as a developer runs it, and that terminal then closed for real: util-linux
 * `script` makes the pseudo-terminal, the command is its session's leader (`exec`), and killing `script` closes the
 * terminal's other end. The command gets SIGHUP, and from then on every write to its terminal fails, as after a
 * closed terminal window. A `kill -HUP` alone leaves the terminal working and hides that.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface InTerminal {
  /** What the terminal showed so far, with its line ends as `\n`. */
  output(): string;
  /** Types `text` at the terminal's keyboard: "\x03" is Ctrl-C, which the terminal turns into SIGINT to its foreground group. */
  type(text: string): void;
  /** Closes the terminal; resolves once the command has ended, and fails when it has not within `limitMs`. */
  close(limitMs?: number): Promise<void>;
}

const quoted = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

export function inTerminal(command: string[], env: NodeJS.ProcessEnv): InTerminal {
  // Descriptor 3, a pipe the command inherits: it closes when the command ends, however it ends, without a pid to poll.
  const script = spawn('script', ['--quiet', '--flush', '--return', '--command', `exec ${command.map(quoted).join(' ')}`, '/dev/null'], {
    env: { ...env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
  });
  let text = '';
  script.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString().replaceAll('\r\n', '\n')));
  const ended = new Promise<void>((resolve) => (script.stdio[3] as Readable).on('close', () => resolve()).resume());
  return {
    output: () => text,
    type: (typed) => script.stdin!.write(typed),
    async close(limitMs = 20_000) {
      script.kill('SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the command had not ended ${limitMs} ms after its terminal closed`)), limitMs);
      });
      await Promise.race([ended, late]).finally(() => clearTimeout(timer));
    },
  };
}
