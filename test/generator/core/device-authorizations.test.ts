/**
 * Device authorizations (RFC 8628) on an in-memory store and an injected clock: the user code found
 * once, the poller told to wait, to slow down, and given the employee's answer once; expiry.
 */
import { describe, expect, it } from 'vitest';
import { DeviceAuthorizations, normalUserCode, READING_MS } from '../../../src/generator/core/device-authorizations.js';
import { MemoryStore, StoreUnavailableError, type SessionStore } from '../../../src/session/index.js';

function devices(lifetimeMs = 300_000) {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  return { devices: new DeviceAuthorizations(new MemoryStore(), { lifetimeMs }, clock.now), clock };
}

/** Makes the store's `nth` call from now on fail, as a Redis restarting or hung at that moment does; says whether it came. */
function failNth(store: SessionStore, nth: number): () => boolean {
  let calls = 0;
  for (const method of ['get', 'set', 'update', 'delete', 'consumeOnce', 'setRecord', 'getRecord', 'swapRecord', 'takeRecord'] as const) {
    const real = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      ++calls === nth ? Promise.reject(new StoreUnavailableError('the store is away')) : real(...args);
  }
  return () => calls >= nth;
}

const ASKED = { client: 'k6', target: 'dev-gcp:team:api', address: '10.0.0.9', userAgent: 'k6/1.0' };

describe('device authorizations', () => {
  it('lose no Allow the store refuses at any step: the employee answers again from the link, and the poller gets it', async () => {
    for (let failing = 1; ; failing++) {
      let now = 1_000_000;
      const store = new MemoryStore();
      const d = new DeviceAuthorizations(store, { lifetimeMs: 300_000 }, () => now);
      const created = await d.create(ASKED);
      const refused = failNth(store, failing);
      // As the device page does: the code looked up, then the employee's answer.
      const answer = async () => {
        const found = await d.find(created.userCode);
        return found ? d.decide(found.deviceCode, true, { session: 'browser-session' }) : false;
      };
      const first = await answer().then(
        (decided) => ({ decided }),
        (err: unknown) => ({ err }),
      );
      if (!refused()) {
        // Every step of an answer has been refused in turn.
        expect(failing).toBeGreaterThan(3);
        return;
      }
      if ('err' in first) {
        expect(first.err).toBeInstanceOf(StoreUnavailableError);
        // The employee opens the link from the device again, and allows.
        expect(await answer()).toBe(true);
      } else expect(first.decided).toBe(true);
      now += 10_000;
      expect(await d.poll(created.deviceCode, 'k6')).toMatchObject({ kind: 'allowed', authorization: { session: 'browser-session' } });
      expect(await d.find(created.userCode)).toBeUndefined();
    }
  });

  it('read a user code however the employee typed it, and refuse letters that are not in it', () => {
    expect(normalUserCode('bcdf ghjk')).toBe('BCDF-GHJK');
    expect(normalUserCode('BCDF-GHJ')).toBeUndefined();
    expect(normalUserCode('BCDF-GHJA')).toBeUndefined();
  });

  it('tell the poller to wait, then to slow down when it polls too fast, then give the answer once', async () => {
    const { devices: d, clock } = devices();
    const created = await d.create(ASKED);
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'pending' });
    clock.advance(1_000);
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'slow_down', interval: created.interval + 5 });
    const found = await d.find(created.userCode);
    expect(found?.authorization).toMatchObject(ASKED);
    expect(await d.decide(found!.deviceCode, true, { session: 'browser-session' })).toBe(true);
    // The user code is used: the page no longer finds it, and a second answer changes nothing.
    expect(await d.find(created.userCode)).toBeUndefined();
    expect(await d.decide(found!.deviceCode, false, { session: 'browser-session' })).toBe(false);
    clock.advance(10_000);
    expect(await d.poll(created.deviceCode, 'k6')).toMatchObject({ kind: 'allowed', authorization: { session: 'browser-session' } });
    clock.advance(10_000);
    // Not taken until the poll's answer is ready: a poll that failed on its way leaves it to the next.
    expect(await d.poll(created.deviceCode, 'k6')).toMatchObject({ kind: 'allowed' });
    expect(await d.claim(created.deviceCode)).toBe(true);
    expect(await d.claim(created.deviceCode)).toBe(false);
    clock.advance(10_000);
    // Taken: a poll after finds nothing to give (invalid_grant at the token endpoint).
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'unknown' });
  });

  it('let a poller that restarts its loop at the base interval, and adds five seconds on each slow_down, get through', async () => {
    const { devices: d, clock } = devices();
    const created = await d.create(ASKED);
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'pending' });
    clock.advance(1_000);
    expect(await d.poll(created.deviceCode, 'k6')).toMatchObject({ kind: 'slow_down' });
    // The tool's loop starts again (after a network error, say) with the interval of the device authorization.
    let interval = created.interval;
    const heard: string[] = [];
    for (let polls = 0; polls < 5; polls++) {
      clock.advance(interval * 1000);
      const outcome = await d.poll(created.deviceCode, 'k6');
      heard.push(outcome.kind);
      if (outcome.kind !== 'slow_down') break;
      interval += 5;
    }
    expect(heard).toEqual(['slow_down', 'pending']);
    // Still too soon is still slow_down.
    clock.advance(1_000);
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'slow_down', interval: created.interval + 5 });
  });

  it('take an Allow only with the code typed as the device shows it, once the page could be read', async () => {
    const { devices: d, clock } = devices();
    const { userCode } = await d.create(ASKED);
    const shownAt = d.now();
    const other = userCode.endsWith('BBBB') ? 'CCCC' : 'BBBB';
    clock.advance(READING_MS);
    expect(d.allowRefusal(userCode, undefined, shownAt)?.code).toBe('user_code_mistyped');
    expect(d.allowRefusal(userCode, other, shownAt)?.code).toBe('user_code_mistyped');
    expect(d.allowRefusal(userCode, userCode.slice(0, 4), shownAt)?.code).toBe('user_code_mistyped');
    expect(d.allowRefusal(userCode, userCode.slice(-4).toLowerCase(), shownAt)).toBeUndefined();
    expect(d.allowRefusal(userCode, userCode.replace('-', ' '), shownAt)).toBeUndefined();
    // Read too fast: the right code, a moment too soon.
    expect(d.allowRefusal(userCode, userCode, d.now() - READING_MS + 1)?.code).toBe('answered_unread');
  });

  it("refuse another client's poll, which neither slows the rightful poller down nor takes its answer", async () => {
    const { devices: d, clock } = devices();
    const created = await d.create(ASKED);
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'pending' });
    clock.advance(5_000);
    expect(await d.poll(created.deviceCode, 'another-tool')).toEqual({ kind: 'other_client' });
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'pending' });
    await d.decide(created.deviceCode, true, { session: 'browser-session' });
    clock.advance(5_000);
    expect(await d.poll(created.deviceCode, 'another-tool')).toEqual({ kind: 'other_client' });
    expect(await d.poll(created.deviceCode, 'k6')).toMatchObject({
      kind: 'allowed',
      authorization: { client: 'k6', session: 'browser-session' },
    });
  });

  it('give a denial as a denial', async () => {
    const { devices: d, clock } = devices();
    const created = await d.create(ASKED);
    await d.decide(created.deviceCode, false, { session: 'browser-session' });
    clock.advance(5_000);
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'denied' });
  });

  it('expire: the page no longer finds the code and the poller hears expired', async () => {
    const { devices: d, clock } = devices(300_000);
    const created = await d.create(ASKED);
    expect(created.expiresIn).toBe(300);
    clock.advance(300_001);
    expect(await d.find(created.userCode)).toBeUndefined();
    expect(await d.poll(created.deviceCode, 'k6')).toEqual({ kind: 'expired' });
    expect(await d.poll('not-a-device-code', 'k6')).toEqual({ kind: 'unknown' });
  });
});
