/**
 * A person's login, as the HTTP layer sees it: the session cookie, loading the session behind it,
 * and keeping the user's access token fresh with the refresh token, one refresh at a time per
 * session across replicas.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { GeneratorConfig } from '../config.js';
import type { EntraClient } from '../entra/client.js';
import { IdpError } from '../entra/errors.js';
import { SESSION_COOKIE } from '../paths.js';
import { FlowFailedError } from './errors.js';
import { SessionManager, StoreUnavailableError, type SessionData } from '../session/index.js';

/** Refresh the user's token when less than five minutes, or a third of its lifetime, is left of it. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export function needsRefresh(data: SessionData, now = Date.now()): boolean {
  const lifetime = data.accessTokenExpiresAt - (data.accessTokenObtainedAt ?? data.createdAt);
  const margin = Math.min(REFRESH_MARGIN_MS, lifetime / 3);
  return data.accessTokenExpiresAt - now <= margin;
}

export interface LoadedSession {
  id: string;
  data: SessionData;
}

export class Sessions {
  constructor(
    readonly manager: SessionManager,
    private readonly entra: EntraClient,
    private readonly config: GeneratorConfig,
    private readonly logger: Logger,
    private readonly onEvent: (event: 'started' | 'refreshed' | 'ended') => void = () => {},
  ) {}

  get secureCookies(): boolean {
    return this.config.publicUrl.startsWith('https:');
  }

  /** Scopes asked for at login and refresh: the user's token must be exchangeable on-behalf-of. */
  get loginScope(): string {
    return `openid profile offline_access api://${this.entra.clientId}/.default`;
  }

  setSessionCookie(reply: FastifyReply, ticket: string): void {
    reply.setCookie(SESSION_COOKIE, ticket, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secureCookies,
      maxAge: Math.floor(this.config.session.maxLifetimeMs / 1000),
    });
  }

  clearSessionCookie(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secureCookies });
  }

  /**
   * The request's session with a user token that is good for a while yet, or undefined when
   * there is none (or it can no longer be refreshed). Throws StoreUnavailableError when the store is down,
   * FlowFailedError when the token ran out while the identity provider could not refresh it.
   */
  async load(request: FastifyRequest): Promise<LoadedSession | undefined> {
    const ticket = request.cookies[SESSION_COOKIE];
    if (!ticket) return undefined;
    const session = await this.manager.load(ticket);
    if (!session) return undefined;
    if (!needsRefresh(session.data)) return session;
    return this.refresh(session);
  }

  async destroy(id: string): Promise<void> {
    await this.manager.destroy(id);
    this.onEvent('ended');
  }

  async create(data: Parameters<SessionManager['create']>[0]): Promise<{ ticket: string; data: SessionData }> {
    const created = await this.manager.create(data);
    this.onEvent('started');
    return created;
  }

  private async refresh(session: LoadedSession): Promise<LoadedSession | undefined> {
    const result = await this.manager.store.withLock(
        session.id,
        async () => {
          // Another replica may have refreshed while this one waited for the lock.
          const current = await this.manager.store.get(session.id);
          if (!current) return undefined;
          if (!needsRefresh(current)) return current;
          if (!current.refreshToken) return current.accessTokenExpiresAt > Date.now() ? current : undefined;
          try {
            const tokens = await this.entra.refresh(current.refreshToken, this.loginScope);
            const next: SessionData = {
              ...current,
              accessToken: tokens.accessToken,
              accessTokenExpiresAt: Date.now() + tokens.expiresIn * 1000,
              accessTokenObtainedAt: Date.now(),
              refreshToken: tokens.refreshToken ?? current.refreshToken,
              ...(tokens.idToken ? { idToken: tokens.idToken } : {}),
            };
            await this.manager.update(session.id, next);
            this.logger.info({ session: 'refreshed' }, 'session refreshed');
            this.onEvent('refreshed');
            return next;
          } catch (err) {
            if (err instanceof IdpError && err.failure.kind === 'rejected' && err.failure.status < 500) {
              // The refresh token is no good any more: the person must log in again.
              await this.manager.destroy(session.id);
              this.onEvent('ended');
              this.logger.info({ reason: err.message }, 'session ended: refresh refused');
              return undefined;
            }
            // The identity provider is down: keep using the current token while it lasts.
            if (current.accessTokenExpiresAt > Date.now()) return current;
            if (err instanceof IdpError) throw new FlowFailedError(err, 'refresh');
            throw err;
          }
        },
        { ttlMs: 15_000, waitMs: 10_000 },
    );
    if (!result.acquired) throw new StoreUnavailableError('the session lock was not released in time');
    return result.value ? { id: session.id, data: result.value } : undefined;
  }
}
