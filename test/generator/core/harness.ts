/**
 * The core as the surfaces use it, on the fake identity provider and an in-memory store: no server,
 * no browser, no network. Each test gets its own.
 */
import { pino } from 'pino';
import { parseAudience, type ParsedAudience } from '../../../src/audience.js';
import { loadConfig, type GeneratorConfig } from '../../../src/config.js';
import { EmployeeLimits, RequestCounter } from '../../../src/generator/core/limits.js';
import { Tokens } from '../../../src/generator/core/tokens.js';
import { FakeProvider, type FakeEmployee } from '../../../src/generator/idp/fake.js';
import { Sessions, type LoadedSession } from '../../../src/generator/http/sessions.js';
import { MemoryStore, randomKey, Sealer, SessionManager, type SessionData } from '../../../src/session/index.js';

export const logger = pino({ level: 'silent' });

export function audience(value: string): ParsedAudience {
  const parsed = parseAudience(value);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

export interface Core {
  provider: FakeProvider;
  tokens: Tokens;
  sessions: Sessions;
  store: MemoryStore;
  config: GeneratorConfig;
  /** An employee logged in, as the login's callback leaves them. */
  login(employee?: FakeEmployee, extra?: Partial<SessionData>): Promise<LoadedSession>;
}

export function core(rateLimit: Partial<GeneratorConfig['rateLimit']> = {}): Core {
  const base = loadConfig({ PUBLIC_URL: 'http://127.0.0.1:8080' }).generator;
  const config: GeneratorConfig = { ...base, rateLimit: { ...base.rateLimit, ...rateLimit } };
  const provider = new FakeProvider();
  const store = new MemoryStore();
  const manager = new SessionManager({ store, sealer: new Sealer(randomKey()), maxLifetimeMs: config.session.maxLifetimeMs });
  const sessions = new Sessions(manager, provider, config, logger);
  const limits = new EmployeeLimits(new RequestCounter(undefined, logger), config.rateLimit);
  const tokens = new Tokens(provider, { maxEntries: 100, limits, sessions });
  const login = async (employee: FakeEmployee = { oid: 'employee-1', name: 'Ola' }, extra: Partial<SessionData> = {}) => {
    const result = provider.login(employee);
    const created = await sessions.create({
      user: { oid: employee.oid },
      accessToken: result.accessToken,
      accessTokenExpiresAt: Date.now() + result.expiresIn * 1000,
      accessTokenObtainedAt: Date.now(),
      ...(result.refreshToken ? { refreshToken: result.refreshToken } : {}),
      ...extra,
    });
    return { id: created.id, data: created.data };
  };
  return { provider, tokens, sessions, store, config, login };
}
