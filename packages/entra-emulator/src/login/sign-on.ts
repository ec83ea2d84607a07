/** The emulator's own single sign-on, as Entra ID keeps one: a session per browser, named by a cookie, until logout. */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SignOnSession, TestEmployee } from '../model.js';
import { randomToken } from '../random.js';
import type { BoundedStore } from '../stores.js';

/** The clients a session remembers, at most. */
const MAX_CLIENTS = 50;

export class SingleSignOn {
  readonly cookieName: string;

  constructor(
    private readonly tenantId: string,
    private readonly sessions: BoundedStore<SignOnSession>,
    private readonly secureCookies: boolean,
  ) {
    this.cookieName = `emulator_sso_${tenantId.replace(/[^a-z0-9]/gi, '')}`;
  }

  current(request: FastifyRequest): SignOnSession | undefined {
    const id = request.cookies[this.cookieName];
    return id ? this.sessions.get(id) : undefined;
  }

  start(reply: FastifyReply, employee: TestEmployee): SignOnSession {
    const authTime = Math.floor(Date.now() / 1000);
    const session = { tenantId: this.tenantId, id: randomToken(32), sid: randomUUID(), employee, authTime };
    this.sessions.set(session.id, session);
    reply.setCookie(this.cookieName, session.id, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.secureCookies });
    return session;
  }

  /** Notes that the session signed the employee in to `clientId`, whose redirect URIs its logout may then go back to. */
  signedInTo(session: SignOnSession, clientId: string): void {
    const clients = (session.clients ??= []);
    if (clients.includes(clientId) || clients.length >= MAX_CLIENTS) return;
    clients.push(clientId);
    this.sessions.changed(session.id);
  }

  end(request: FastifyRequest, reply: FastifyReply): void {
    const id = request.cookies[this.cookieName];
    if (id) this.sessions.delete(id);
    reply.clearCookie(this.cookieName, { path: '/' });
  }
}
