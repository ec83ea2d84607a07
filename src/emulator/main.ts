/** Starts the Entra ID emulator on its own: `npm run emulator`. Port 8081 unless EMULATOR_PORT says otherwise. */
import { pino } from 'pino';
import { emulatorOptionsFromEnv, startEmulator, type Emulator, type EmulatorOptions } from './index.js';
import { relaunchWithThreadPerCore } from './thread-pool.js';

async function main(): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = emulatorOptionsFromEnv({ ...process.env, EMULATOR_PORT: process.env.EMULATOR_PORT?.trim() || '8081' });
  } catch (err) {
    process.stderr.write(`Configuration error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  let emulator: Emulator;
  try {
    emulator = await startEmulator({ ...options, logger });
  } catch (err) {
    process.stderr.write(`Could not start the emulator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  process.stdout.write(
    [
      `Entra ID emulator: ${emulator.baseUrl}`,
      `  tenant:        ${emulator.tenantId}`,
      `  well-known:    ${emulator.wellKnownUrl}`,
      `  token:         ${emulator.tokenEndpoint}`,
      `  signing:       on ${process.env.UV_THREADPOOL_SIZE ?? 4} pool threads (UV_THREADPOOL_SIZE)`,
      ...(emulator.caFile ? [`  CA certificate: ${emulator.caFile} (NODE_EXTRA_CA_CERTS=${emulator.caFile} for Node.js clients)`] : []),
      ...emulator.summary.split('\n').map((line) => `  ${line}`),
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'emulator shutting down');
    // A stuck connection must not keep the process alive for ever.
    setTimeout(() => process.exit(1), 10_000).unref();
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (!relaunchWithThreadPerCore()) void main();
