/** The Entra ID emulator, as `npm run emulator` starts it, with one registered client whose public key comes from BENCH_CLIENT_JWK. */
import { signingThreadPerCore } from '../../src/emulator/thread-pool.js';

signingThreadPerCore();
const { startEmulator } = await import('../../src/emulator/index.js');

const emulator = await startEmulator({ port: Number(process.env.PORT), tenantId: 'bench-tenant' });
emulator.registerClient({ target: 'dev-gcp:bench:client', jwks: [JSON.parse(process.env.BENCH_CLIENT_JWK ?? '{}')] });
process.on('SIGTERM', () => {
  void emulator.close().then(() => process.exit(0));
});
