/**
 * An emulator in a process of its own, as `npm start` runs one, on the state folder STATE_DIR with the client CLIENT (a
 * registration as JSON) registered, on PORT if given: for the tests that kill it. Prints its base URL, tenant, token
 * endpoint, well-known URL and the client's id as one line of JSON.
 */
import { startEmulator } from '../../../packages/entra-emulator/src/index.js';

const emulator = await startEmulator({ stateDir: process.env.STATE_DIR!, port: Number(process.env.PORT ?? 0) });
const clientId = emulator.registerClient(JSON.parse(process.env.CLIENT!));
const { baseUrl, tenantId, tokenEndpoint, wellKnownUrl } = emulator;
process.stdout.write(`${JSON.stringify({ baseUrl, tenantId, tokenEndpoint, wellKnownUrl, clientId })}\n`);
