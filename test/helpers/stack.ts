/**
 * The whole service as `npm start` runs it, on free ports: the emulator, the generator
 * registered with it, real HTTP between them. Log lines are kept for inspection.
 */
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService, type Service } from '../../src/main.js';
import type { EmulatorOptions } from '../../packages/entra-emulator/src/index.js';
import { freePort } from './ports.js';
import { waitFor } from './wait-for.js';

export interface Stack extends Service {
  logs: string[];
}

export function memoryLogger(level = 'debug') {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = chunk.toString('utf8');
      for (const line of text.split('\n')) {
        if (line) {
          logs.push(line);
        }
      }
      callback();
    },
  });
  return { logger: createLogger(level, destination), logs };
}

export async function startStack(
  options: { env?: Record<string, string>; emulator?: EmulatorOptions; logLevel?: string } = {},
): Promise<Stack> {
  const port = await freePort();
  const env = { PORT: String(port), HOST: '127.0.0.1', EMULATOR_PORT: '0', ...options.env };
  const loaded = loadConfig(env);
  const { logger, logs } = memoryLogger(options.logLevel);
  const service = await startService(loaded, env, { logger, ...(options.emulator ? { emulator: options.emulator } : {}) });
  return Object.assign(service, { logs });
}

/**
 * Another replica of `first`: the same registration with the identity provider, on a port of its own, with `env` (a shared Redis and
 * key).
 */
export async function startReplica(first: Service, env: Record<string, string>): Promise<Service> {
  const own = { ...env, PORT: String(await freePort()), HOST: '127.0.0.1' };
  return startService({ generator: loadConfig(own).generator, identity: first.identity }, own, { logger: memoryLogger().logger });
}

/**
 * Until the generator at `url` reaches its session store: a login completed before it first did is put off (503), as it must
 * be, where a replica on NAIS gets no request before its readiness says the store was reached.
 */
export async function storeReached(url: string, timeout = 15_000): Promise<void> {
  const reachable = async () =>
    ((await (await fetch(`${url}/internal/health`)).json()) as { session_store: { reachable: boolean } }).session_store.reachable;
  await waitFor(reachable, { what: `the generator at ${url} to reach its session store`, timeout });
}
