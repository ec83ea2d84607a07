/**
 * The Entra ID emulator with one registered client whose public key comes from BENCH_CLIENT_JWK.
 * The benchmark sets UV_THREADPOOL_SIZE for it, as `npm run emulator` does.
 */
import { startEmulator } from '../../packages/entra-emulator/src/index.js';

const emulator = await startEmulator({ port: Number(process.env.PORT), tenantId: 'bench-tenant' });
emulator.registerClient({ target: 'dev-gcp:bench:client', jwks: [JSON.parse(process.env.BENCH_CLIENT_JWK ?? '{}')] });
process.on('SIGTERM', () => {
  void emulator.close().then(() => process.exit(0));
});
