/**
 * Who gets which token, once for every surface (the public API, the pages, the headless route, the
 * OAuth 2.0 token endpoint): app tokens cached per scope and employee tokens per session and scope,
 * concurrent asks for one token coalesced into one call, the fresh-token limits that keep the
 * generator's one client at the identity provider clear of throttling, and the session renewed once
 * when the provider refuses the employee's token. A tool's session gets tokens only for the targets
 * the employee consented to.
 */
import { digest } from '../../digest.js';
import type { ParsedAudience } from '../../audience.js';
import { TokenCache, type CacheResult } from '../../cache/token-cache.js';
import type { SessionData } from '../../session/index.js';
import { IdpError, type IdentityProvider, type TokenResponse } from '../idp/identity-provider.js';
import type { Limits } from './limits.js';
import { LoginRequiredError, ProblemError, refuse } from './problem.js';
import { ask, providerProblem } from './provider.js';

export interface IssuedToken {
  accessToken: string;
  tokenType: string;
  expiresAt: number;
  scope?: string;
}

export interface TokenResponseBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** An employee's session (a browser's or a tool's), as the rules need it. */
export interface EmployeeSession {
  id: string;
  data: SessionData;
  /** The session lives for this one token (the headless route's), never stored: the token is fresh and not kept in the cache. */
  once?: true;
}

/** Renews a session whose employee token the provider refused; the same session when renewing would not help, undefined when it ended. */
export interface SessionRenewal {
  renewRefused(session: EmployeeSession, refusal: IdpError): Promise<EmployeeSession | undefined>;
}

export interface TokenOptions {
  /** A token straight from the provider, not the cache (`Cache-Control: no-cache`). */
  fresh?: boolean;
  /** The caller's address, for the limits per address. */
  address: string;
}

export interface TokenEvents {
  onCache?: (cache: 'app' | 'employee', hit: boolean) => void;
}

/** One ask for an employee token: the session, its cache key, the target, and how the ask is counted. */
interface EmployeeAsk {
  session: EmployeeSession;
  key: string;
  target: ParsedAudience;
  options: TokenOptions;
  fresh: FreshCount;
}

export interface TokensOptions extends TokenEvents {
  maxEntries: number;
  maxBytes?: number;
  now?: () => number;
  limits: Limits;
  sessions: SessionRenewal;
}

export class Tokens {
  readonly appCache: TokenCache<IssuedToken>;
  readonly employeeCache: TokenCache<IssuedToken>;
  private readonly now: () => number;

  constructor(
    private readonly provider: IdentityProvider,
    private readonly options: TokensOptions,
  ) {
    this.appCache = new TokenCache(options);
    this.employeeCache = new TokenCache(options);
    this.now = options.now ?? Date.now;
  }

  /**
   * An app token for the target; a refusal of the provider becomes its advice. A call to the provider
   * counts against the fresh-token limit of the address of the caller that starts it, whichever surface
   * asks (the public route, the token endpoint's client credentials grant).
   */
  async appToken(target: ParsedAudience, options: TokenOptions): Promise<IssuedToken> {
    return this.issueAppToken(target, options, new FreshCount(() => this.options.limits.freshAppToken(options.address)));
  }

  /** The cached app token for the target, without a call to the provider (or undefined): the public route's fast path. */
  cachedAppToken(target: ParsedAudience): IssuedToken | undefined {
    const token = this.appCache.peek(this.provider.scopeFor(target));
    if (token) this.options.onCache?.('app', true);
    return token;
  }

  /** An app token for a logged-in employee (`/api/m2m`): counted against their limits and their address's, as an employee token. */
  async appTokenFor(session: EmployeeSession, target: ParsedAudience, options: TokenOptions): Promise<IssuedToken> {
    return this.countedForEmployee(session, options.address, (fresh) => this.issueAppToken(target, options, fresh));
  }

  /**
   * `ask` counted against an employee's limits: the login's first; then, inside the call to the provider if
   * the ask starts one, the fresh ones and the address's; else, once it is answered, the address's.
   */
  private async countedForEmployee<T>(session: EmployeeSession, address: string, ask: (fresh: FreshCount) => Promise<T>): Promise<T> {
    const limits = this.options.limits;
    await limits.loginRequest(session.id);
    const fresh = new FreshCount(() => limits.freshEmployeeToken(address, session.id));
    const answer = await ask(fresh);
    if (!fresh.started) await limits.addressRequest(address);
    return answer;
  }

  /** From the cache, a call under way, or a call of its own, which `fresh` counts. */
  private async issueAppToken(target: ParsedAudience, options: TokenOptions, fresh: FreshCount): Promise<IssuedToken> {
    const scope = this.provider.scopeFor(target);
    const call = fresh.counted(async () => this.issued(await this.provider.clientCredentials(scope)));
    const result = await fresh.shared(() =>
      ask(this.provider, 'client_credentials', target, () => this.appCache.get(scope, call, { skipCache: options.fresh ?? false })),
    );
    this.options.onCache?.('app', result.hit);
    return result.token;
  }

  /**
   * A token on behalf of the session's employee for the target. Counted against the limits (a fresh
   * one, asked of the provider, against the tighter ones too); when the provider refuses the employee's
   * own token, the session is renewed once and asked again, counted once; when it has ended,
   * LoginRequiredError.
   */
  async employeeToken(session: EmployeeSession, target: ParsedAudience, options: TokenOptions): Promise<IssuedToken> {
    assertConsented(session, target);
    const key = employeeCacheKey(session.id, this.provider.scopeFor(target));
    const result = await this.countedForEmployee(session, options.address, (fresh) =>
      fresh.shared(() => this.renewingExchange({ session, key, target, options, fresh })),
    );
    // A token for one use only never was the cache's to count.
    if (!session.once) this.options.onCache?.('employee', result.hit);
    return result.token;
  }

  private async renewingExchange(asked: EmployeeAsk): Promise<CacheResult<IssuedToken>> {
    try {
      return await this.exchange(asked);
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      // The employee's token refused (the provider's keys changed, say): renewed once, or the employee logs in again.
      const renewed = await this.options.sessions.renewRefused(asked.session, err);
      if (renewed === asked.session) throw providerProblem(this.provider, err, 'on_behalf_of', asked.target);
      if (!renewed) throw new LoginRequiredError();
      return ask(this.provider, 'on_behalf_of', asked.target, () => this.exchange({ ...asked, session: renewed }));
    }
  }

  private async exchange({ session, key, target, options, fresh }: EmployeeAsk): Promise<CacheResult<IssuedToken>> {
    const scope = this.provider.scopeFor(target);
    const call = fresh.counted(async () => this.issued(await this.provider.onBehalfOf(session.data.accessToken, scope)));
    if (session.once) return { token: await call(), hit: false };
    return this.employeeCache.get(key, call, { skipCache: options.fresh ?? false });
  }

  private issued(response: TokenResponse): IssuedToken {
    return {
      accessToken: response.accessToken,
      tokenType: response.tokenType,
      expiresAt: this.now() + response.expiresIn * 1000,
      ...(response.scope ? { scope: response.scope } : {}),
    };
  }
}

/**
 * The fresh-token limits of one ask, counted by the call to the provider it starts, inside that call: an
 * ask that finds the token cached, or joins a call already under way, is not counted, and asks that
 * arrive while the count is taken (a Redis round trip) join the call rather than count again. Counted
 * once, however many calls the ask makes (a renewal asks again).
 */
class FreshCount {
  #started = false;

  constructor(private readonly count: () => Promise<void>) {}

  /** Whether this ask started a call, and so was counted. */
  get started(): boolean {
    return this.#started;
  }

  /** `call`, counted as it starts. */
  counted<T>(call: () => Promise<T>): () => Promise<T> {
    return async () => {
      if (!this.#started) {
        this.#started = true;
        await this.count();
      }
      return call();
    };
  }

  /** `issue`, asked once more on this ask's own count when the call it joined was refused for the one that started it. */
  async shared<T>(issue: () => Promise<T>): Promise<T> {
    try {
      return await issue();
    } catch (err) {
      if (this.#started || !(err instanceof ProblemError) || err.problem.code !== 'rate_limited') throw err;
      return issue();
    }
  }
}

/** A tool's session was started by the employee's consent for one target: it gets tokens for that target only. */
function assertConsented(session: EmployeeSession, target: ParsedAudience): void {
  const tool = session.data.tool;
  if (!tool || tool.target === target.target) return;
  throw refuse(
    'target_not_consented',
    `This tool was allowed tokens for ${tool.target} only, not for ${target.target}. To get tokens for ${target.target}, ask the ` +
      'employee again: start a new authorization (or device authorization) with that scope, and they allow it on a new consent page.',
  );
}

/** The session's key is hashed: a key is never the session's id as the store knows it. */
function employeeCacheKey(sessionId: string, scope: string): string {
  return `${digest(sessionId)} ${scope}`;
}

export function responseBody(token: IssuedToken, now = Date.now()): TokenResponseBody {
  return {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_in: Math.max(0, Math.floor((token.expiresAt - now) / 1000)),
    ...(token.scope ? { scope: token.scope } : {}),
  };
}
