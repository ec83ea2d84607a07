/**
 * How a program of this project (`npm start`, the emulator's command) is told to stop: SIGTERM (NAIS, `docker stop`),
 * SIGINT (Ctrl-C) and SIGHUP (the terminal it ran in was closed). Each is a stop that writes what the program keeps
 * for its next start; SIGHUP's default would end the process at once, losing what is written only at the close.
 */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface Stopping {
  /** Ends what runs, writing what is kept for the next start. */
  stop(signal: NodeJS.Signals): Promise<void>;
  /** Says that the program stops (its log line). */
  announce(signal: NodeJS.Signals): void;
  /** After this long the process ends with 1, whatever is still running: a stuck connection must not keep it alive. */
  limitMs: number;
  /** Says that the limit was reached. */
  tooLong?: () => void;
  /** What writes to the terminal besides standard output and error: a logger's own destination. */
  outputs?: NodeJS.EventEmitter[];
}

/**
 * Stops on the first stop signal, then exits: 0 once `stop` is done, 1 when it failed or took too long. The signals
 * after it are taken and ignored, so that none ends the stop half-way.
 *
 * After SIGHUP from a terminal that was really closed, every write to it fails (EIO, EPIPE), and an output stream's
 * unheard error would end the process before what it keeps is written. Such errors are ignored from the start, since
 * the first may come before the signal is handled; and the program says it stops only after `stop` is done: what is
 * kept comes before any log line.
 */
export function onStopSignal({ stop, announce, limitMs, tooLong, outputs = [] }: Stopping): void {
  for (const output of [process.stdout, process.stderr, ...outputs]) output.on('error', ignoreGoneTerminal);
  let stopping = false;
  for (const signal of STOP_SIGNALS)
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      const hungUp = signal === 'SIGHUP';
      if (!hungUp) announce(signal);
      setTimeout(() => {
        tooLong?.();
        process.exit(1);
      }, limitMs).unref();
      stop(signal).then(
        () => {
          if (hungUp) announce(signal);
          process.exit(0);
        },
        () => process.exit(1),
      );
    });
}

/** An output's error: ignored when its terminal or reader is gone (SIGHUP follows, or nobody reads); any other as before. */
function ignoreGoneTerminal(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EIO' && err.code !== 'EPIPE') throw err;
}
