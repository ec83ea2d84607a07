/**
 * The core as the surfaces use it, on the fake identity provider, an in-memory store and a clock of
 * the test's own: no server, no browser, no network, no sleeps. Each test gets its own.
 */
import { pino } from 'pino';
import { parseAudience, type ParsedAudience } from '../../../src/audience.js';
import { loadConfig, type GeneratorConfig } from '../../../src/config.js';
import { Limits, MemoryLimiter, type Limiter } from '../../../src/generator/core/limits.js';
import { Logins } from '../../../src/generator/core/login.js';
import { AuthorizationCodes } from '../../../src/generator/core/oauth/codes.js';
import { ToolAccess } from '../../../src/generator/core/oauth/tool-access.js';
import { ToolSessions } from '../../../src/generator/core/oauth/tool-sessions.js';
import { Sessions, type LoadedSession } from '../../../src/generator/core/sessions.js';
import { Tokens } from '../../../src/generator/core/tokens.js';
import { FakeProvider, type FakeEmployee } from '../../../src/generator/idp/fake.js';
import { MemoryStore, randomKey, Sealer, SessionManager, type SessionData } from '../../../src/session/index.js';

export const logger = pino({ level: 'silent' });

export const REDIRECT_URI = 'http://127.0.0.1:8080/oauth2/callback';

export function audience(value: string): ParsedAudience {
  const parsed = parseAudience(value);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
}

/** The test's clock: it moves only when the test moves it. It starts at the real time, so the store's own expiries stay sane. */
export interface Clock {
  now: () => number;
  advance(ms: number): void;
}

export function clock(): Clock {
  let time = Date.now();
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

export interface Core {
  clock: Clock;
  provider: FakeProvider;
  tokens: Tokens;
  sessions: Sessions;
  store: MemoryStore;
  sealer: Sealer;
  config: GeneratorConfig;
  tools: ToolSessions;
  codes: AuthorizationCodes;
  logins: Logins;
  limits: Limits;
  /** An employee logged in, as the login's callback leaves them. */
  login(employee?: FakeEmployee, extra?: Partial<SessionData>): Promise<LoadedSession>;
}

/** `backend` stands in for where the limits other than the public one are counted (Redis, with its round trip). */
export function core(rateLimit: Partial<GeneratorConfig['rateLimit']> = {}, backend?: (memory: MemoryLimiter) => Limiter): Core {
  const base = loadConfig({ PUBLIC_URL: 'http://127.0.0.1:8080' }).generator;
  const config: GeneratorConfig = { ...base, rateLimit: { ...base.rateLimit, ...rateLimit } };
  const time = clock();
  const now = time.now;
  const provider = new FakeProvider(now);
  const store = new MemoryStore();
  const sealer = new Sealer(randomKey());
  const manager = new SessionManager({ store, sealer, maxLifetimeMs: config.session.maxLifetimeMs, now });
  const sessions = new Sessions({ manager, provider, logger, now });
  const limiter = new MemoryLimiter({ now });
  const limits = new Limits(config.rateLimit, backend ? backend(limiter) : limiter, limiter);
  const tokens = new Tokens(provider, { maxEntries: 100, limits, sessions, now });
  const tools = new ToolSessions(sessions, sealer, new ToolAccess(store, now), now);
  const codes = new AuthorizationCodes(sealer, store, tools, now);
  const logins = new Logins(provider, sessions, sealer, logger, REDIRECT_URI, now);
  const login = async (employee: FakeEmployee = { oid: 'employee-1', name: 'Ola' }, extra: Partial<SessionData> = {}) => {
    const result = provider.login(employee);
    const created = await sessions.create({
      user: { oid: employee.oid },
      accessToken: result.accessToken,
      accessTokenExpiresAt: now() + result.expiresIn * 1000,
      accessTokenObtainedAt: now(),
      ...(result.refreshToken ? { refreshToken: result.refreshToken } : {}),
      ...extra,
    });
    return { id: created.id, data: created.data };
  };
  return { clock: time, provider, tokens, sessions, store, sealer, config, tools, codes, logins, limits, login };
}
