/**
 * The session cookie: which of a request's cookies carries the employee's session ticket, and setting
 * and clearing it. What a session is, how long it lives and how it is renewed is the core's
 * (`core/sessions.ts`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cookieNames, type CookieNames } from '../../paths.js';
import type { LoadedSession, Sessions } from '../core/sessions.js';

export class SessionCookie {
  /** This service's cookie names: `__Host-` ones on https and on loopback. */
  readonly names: CookieNames;

  constructor(
    private readonly sessions: Sessions,
    publicUrl: string,
    private readonly maxLifetimeMs: number,
  ) {
    this.names = cookieNames(publicUrl);
  }

  /** The session ticket the request carries, if any. */
  ticket(request: FastifyRequest): string | undefined {
    return request.cookies[this.names.session] || undefined;
  }

  /** The request's session, its employee token kept fresh (`Sessions.load`). */
  load(request: FastifyRequest): Promise<LoadedSession | undefined> {
    return this.sessions.load(this.ticket(request));
  }

  /** The request's session as stored, without refreshing it: it is about to end, or is only looked at. */
  stored(request: FastifyRequest): Promise<LoadedSession | undefined> {
    return this.sessions.manager.load(this.ticket(request));
  }

  set(reply: FastifyReply, ticket: string): void {
    reply.setCookie(this.names.session, ticket, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.names.secure,
      maxAge: Math.floor(this.maxLifetimeMs / 1000),
    });
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(this.names.session, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.names.secure });
  }
}
