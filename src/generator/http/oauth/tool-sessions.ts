/**
 * A tool's own session: started from the employee's browser session when they allow the tool, then
 * living and ending apart from it. The tool holds it as its refresh token, a sealed handle on the
 * session's id that opens for nothing else (not as a session cookie, and no cookie opens as it).
 */
import type { Sealer } from '../../../session/index.js';
import type { LoadedSession, Sessions } from '../sessions.js';
import { refuse } from '../../core/problem.js';

const HANDLE = 'tool-refresh-token';

export class ToolSessions {
  constructor(
    private readonly sessions: Sessions,
    private readonly sealer: Sealer,
  ) {}

  /** A session of the tool's own, from the employee's browser session, and its refresh token; refused once that session has ended. */
  async start(
    browserSessionId: string,
    tool: { client: string; target: string },
  ): Promise<{ session: LoadedSession; refreshToken: string }> {
    const browser = await this.sessions.loadById(browserSessionId);
    if (!browser) throw refuse('invalid_grant', 'The login behind this grant has ended (logged out or expired): start again.');
    const { user, accessToken, accessTokenExpiresAt, accessTokenObtainedAt, refreshToken } = browser.data;
    const created = await this.sessions.create({
      user,
      accessToken,
      accessTokenExpiresAt,
      ...(accessTokenObtainedAt !== undefined ? { accessTokenObtainedAt } : {}),
      ...(refreshToken ? { refreshToken } : {}),
      tool,
    });
    return { session: { id: created.id, data: created.data }, refreshToken: this.sealer.seal(created.id, HANDLE) };
  }

  /** The tool's session behind a refresh token, with a fresh employee token. */
  async load(refreshToken: string): Promise<LoadedSession> {
    const id = this.sealer.open(refreshToken, HANDLE);
    const session = id ? await this.sessions.loadById(id) : undefined;
    if (!session?.data.tool)
      throw refuse('invalid_grant', 'This refresh token is not valid any more (its session was ended or expired): log in again.');
    return session;
  }

  /** Ends the tool's session; an unknown or ended one is no error (RFC 7009 §2.2). */
  async end(refreshToken: string): Promise<boolean> {
    const id = this.sealer.open(refreshToken, HANDLE);
    if (!id) return false;
    await this.sessions.destroy(id);
    return true;
  }

  async endById(id: string): Promise<void> {
    await this.sessions.destroy(id);
  }
}
