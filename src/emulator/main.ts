/** Starts the Entra ID emulator on its own: `npm run emulator`. */
import { pino } from 'pino';
import { emulatorOptionsFromEnv, startEmulator } from './index.js';

async function main(): Promise<void> {
  let options;
  try {
    options = emulatorOptionsFromEnv({ EMULATOR_PORT: '8081', ...process.env });
  } catch (err) {
    process.stderr.write(`Configuration error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: undefined });
  let emulator;
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
      ...(emulator.caFile ? [`  CA certificate: ${emulator.caFile} (NODE_EXTRA_CA_CERTS=${emulator.caFile} for Node.js clients)`] : []),
      ...emulator.summary.split('\n').map((line) => `  ${line}`),
      '',
    ].join('\n'),
  );
  const stop = () => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
