/**
 * An emulator in a process of its own, as `npm start` runs one, on the state folder STATE_DIR with the client CLIENT (a
 * registration as JSON) registered: for the tests that kill it. Prints its base URL, tenant, token endpoint and the
 * client's id as one line of JSON.
 */
import { startEmulator } from '../../../packages/entra-emulator/src/index.js';

const emulator = await startEmulator({ stateDir: process.env.STATE_DIR! });
const clientId = emulator.registerClient(JSON.parse(process.env.CLIENT!));
const { baseUrl, tenantId, tokenEndpoint } = emulator;
process.stdout.write(`${JSON.stringify({ baseUrl, tenantId, tokenEndpoint, clientId })}\n`);
