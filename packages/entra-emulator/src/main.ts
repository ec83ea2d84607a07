/**
 * The Entra ID emulator as a program: `entra-emulator` and `npm run emulator`. Port 8081 and the
 * default state folder unless the flags or EMULATOR_* variables say otherwise.
 */
import { withCommandPort } from './command-port.js';
import { HELP, parseCommand, printEnvironment, rotateKey, UsageError, type Command } from './cli.js';
import type { Emulator, EmulatorOptions } from './index.js';
import { faultSentence } from '../../../src/env.js';
import { onStopSignal } from '../../../src/stop-signals.js';

/** One line for a start that failed; a port in use says how to choose another. */
function startFailure(err: unknown, port: number | undefined): string {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
    return (
      `entra-emulator: port ${port} is in use (another emulator, or \`npm start\`'s): ` +
      `choose another with --port <port> or EMULATOR_PORT=<port>`
    );
  return `Could not start the emulator: ${err instanceof Error ? err.message : String(err)}`;
}

async function start(overrides: Record<string, string>): Promise<void> {
  // Loaded only here: `env`, `rotate-key` and `--help` need none of it.
  const [{ pino }, { defaultStateDir, emulatorEnv, startEmulator }] = await Promise.all([import('pino'), import('./index.js')]);
  let options: EmulatorOptions;
  let logLevel: string;
  try {
    ({ options, logLevel } = emulatorEnv({
      EMULATOR_STATE_DIR: defaultStateDir(process.env),
      ...withCommandPort(process.env),
      ...overrides,
    }));
  } catch (err) {
    process.stderr.write(`Configuration error: ${faultSentence(err)}\n`);
    process.exit(2);
  }
  // Standard output, written as each line comes: an asynchronous destination keeps a line its terminal refused after a
  // hang-up and tries it again at the exit, without end. Named, so that a closed terminal's errors on it can be ignored.
  const output = pino.destination({ dest: 1, sync: true });
  // Levels by name, as the generator logs them: one query reads both programs' lines.
  const logger = pino(
    {
      level: logLevel,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    output,
  );
  let emulator: Emulator;
  try {
    emulator = await startEmulator({ ...options, logger });
  } catch (err) {
    process.stderr.write(`${startFailure(err, options.port)}\n`);
    process.exit(1);
  }
  process.stdout.write(
    [
      `Entra ID emulator: ${emulator.baseUrl}  (overview of the directory at ${emulator.baseUrl}/)`,
      `  tenant:        ${emulator.tenantId}`,
      `  well-known:    ${emulator.wellKnownUrl}`,
      `  token:         ${emulator.tokenEndpoint}`,
      `  state folder:  ${emulator.stateDir ?? 'none: a new tenant and new keys on every start'}`,
      `  signing:       on ${process.env.UV_THREADPOOL_SIZE ?? 4} pool threads (UV_THREADPOOL_SIZE)`,
      ...(emulator.caFile ? [`  CA certificate: ${emulator.caFile} (NODE_EXTRA_CA_CERTS=${emulator.caFile} for Node.js clients)`] : []),
      ...emulator.summary.split('\n').map((line) => `  ${line}`),
      '',
    ].join('\n'),
  );
  // A closed terminal (SIGHUP) too: the kept state of the last second (refresh tokens, sign-in sessions, device codes) is
  // written at the close.
  onStopSignal({
    announce: (signal) => logger.info({ signal }, 'emulator shutting down'),
    stop: () => emulator.close(),
    limitMs: 10_000,
    outputs: [output],
  });
}

async function main(): Promise<void> {
  let command: Command;
  try {
    command = parseCommand(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`entra-emulator: ${err.message}\n`);
    process.exit(2);
  }
  if (command.name === 'help') {
    process.stdout.write(HELP);
  } else if (command.name === 'env') {
    process.exitCode = await printEnvironment(command, process.stdout);
  } else if (command.name === 'rotate-key') {
    process.exitCode = await rotateKey(command, process.stdout);
  } else {
    await start(command.env);
  }
}

void main();
