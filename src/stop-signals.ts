/**
 * How a program of this project (`npm start`, the emulator's command) is told to stop: SIGTERM (NAIS, `docker stop`),
 * SIGINT (Ctrl-C) and SIGHUP (the terminal it ran in was closed). Each is a stop that writes what the program keeps
 * for its next start; SIGHUP's default would end the process at once, losing what is written only at the close.
 */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Calls `stop` on the first stop signal; the ones after are taken and ignored, so that none ends the stop half-way. */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  let stopping = false;
  for (const signal of STOP_SIGNALS)
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      stop(signal);
    });
}
