/**
 * `core/sessions.ts` when a renewal fails for now (the identity provider slow or unreachable) while the employee token
 * the session holds is still usable: the request goes on with that token and the session stays, to be renewed later.
 * Neither ended nor an error, whether the renewal ran behind the request or the request waited for it.
 */
import { describe, expect, it } from 'vitest';
import type { LoadedSession } from '../../../src/generator/core/sessions.js';
import { timedOut, unreachable } from '../../../src/generator/idp/fake.js';
import { core } from './harness.js';

const MINUTE = 60_000;
/** The fake provider's employee tokens live an hour. */
const TOKEN_MS = 60 * MINUTE;

describe('a renewal that fails for now, with the employee token still usable', () => {
  it('behind the request: the session keeps its token, and a later request renews it', async () => {
    const { sessions, provider, clock, login, store } = core();
    const session = await login();
    clock.advance(TOKEN_MS - 4 * MINUTE);
    provider.script('refresh_token', unreachable());
    expect((await sessions.loadById(session.id))?.data.accessToken).toBe(session.data.accessToken);
    await sessions.settled();
    expect(provider.count('refresh_token')).toBe(1);
    expect((await store.get(session.id))?.accessToken).toBe(session.data.accessToken);

    clock.advance(MINUTE);
    expect((await sessions.loadById(session.id))?.data.accessToken).toBe(session.data.accessToken);
    await sessions.settled();
    expect(provider.count('refresh_token')).toBe(2);
    expect((await sessions.loadById(session.id))?.data.accessToken).not.toBe(session.data.accessToken);
  });

  it('for a request that waited while another replica renewed the session: it goes on with that token', async () => {
    const { sessions, provider, clock, login, store } = core();
    const session = await login();
    clock.advance(TOKEN_MS + MINUTE);
    let loading!: Promise<LoadedSession | undefined>;
    let renewedElsewhere!: string;
    // Another replica holds the session's lock, renewing it, while this request finds its token run out and waits.
    const held = await store.withLock(
      session.id,
      async () => {
        loading = sessions.loadById(session.id);
        // The request has read the session and waits for the lock: the fake provider and the memory store answer at once.
        await new Promise((resolve) => setImmediate(resolve));
        const tokens = provider.login({ oid: 'employee-1' });
        renewedElsewhere = tokens.accessToken;
        const now = clock.now();
        await store.update(session.id, {
          ...session.data,
          accessToken: tokens.accessToken,
          accessTokenExpiresAt: now + tokens.expiresIn * 1000,
          accessTokenObtainedAt: now,
        });
        // By the time the lock is free that token is within its renewal margin, yet good for four minutes more,
        // and the identity provider does not answer.
        clock.advance(TOKEN_MS - 4 * MINUTE);
        provider.script('refresh_token', timedOut());
      },
      { waitMs: 0 },
    );
    expect(held.acquired).toBe(true);

    const loaded = await loading;
    expect(provider.count('refresh_token')).toBe(1);
    expect(loaded?.data.accessToken).toBe(renewedElsewhere);
    expect((await store.get(session.id))?.accessToken).toBe(renewedElsewhere);
  });
});
