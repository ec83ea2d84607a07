/**
 * Device authorizations (RFC 8628): what a tool without a browser asked for, kept in the session
 * store so that any replica can be polled for it. The employee finds it by its short user code,
 * which is single use and expires with it; the tool polls with its device code, which an allowed
 * authorization gives once, to the first poll whose answer is ready.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { randomToken, type SessionStore } from '../../session/index.js';
import type { Problem } from './problem.js';
import { sentByAnotherTool } from './oauth/client-id.js';
import type { AllowedBy } from './oauth/tool-sessions.js';

/** Letters no one mistakes for others or for digits, and that spell no words (RFC 8628 §6.1). */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
/** RFC 8628's default: a tool polls every five seconds unless told otherwise. */
const POLL_INTERVAL_SECONDS = 5;
/** Polls may come this much early (timers, network) before they are too fast. */
const POLL_TOLERANCE_MS = 250;
/** How long after expiry a device code is still recognised, so that its poller hears expired_token. */
const EXPIRED_KEPT_MS = 10 * 60_000;
/** How long the approval must have been shown before an Allow counts: long enough to have read it (the page's script waits longer). */
export const READING_MS = 1000;

const Authorization = z.object({
  userCode: z.string(),
  client: z.string(),
  target: z.string(),
  address: z.string(),
  userAgent: z.string(),
  expiresAt: z.number(),
  status: z.enum(['pending', 'allowed', 'denied']),
  /** Once allowed: the browser login that allowed it, and the employee's logout mark then (`ToolSessions.allowing`). */
  session: z.string().optional(),
  mark: z.string().optional(),
});
export type DeviceAuthorization = z.infer<typeof Authorization>;

const Polling = z.object({ lastPollAt: z.number(), interval: z.number() });

export type PollOutcome =
  | { kind: 'pending' | 'denied' | 'expired' | 'unknown' | 'used' | 'other_client' }
  | { kind: 'slow_down'; interval: number }
  | { kind: 'allowed'; authorization: DeviceAuthorization & { session: string } };

/** XXXX-XXXX from whatever the employee typed: case, spaces and dashes do not matter. */
export function normalUserCode(input: string): string | undefined {
  const letters = input.toUpperCase().replace(/[\s-]/g, '');
  if (letters.length !== USER_CODE_LENGTH || [...letters].some((c) => !USER_CODE_ALPHABET.includes(c))) return undefined;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

/** Whether the employee typed the user code as the device shows it: all of it, or its last four letters. */
export function typedCodeMatches(userCode: string, typed: string): boolean {
  const letters = typed.toUpperCase().replace(/[\s-]/g, '');
  const expected = userCode.replace('-', '');
  return letters === expected || (letters.length === 4 && expected.endsWith(letters));
}

/** The device authorizations in the session store, found by device code (the tool) or by user code (the employee). */
export class DeviceAuthorizations {
  private readonly lifetimeMs: number;
  private readonly pollIntervalSeconds: number;

  constructor(
    private readonly store: SessionStore,
    /** How long a user code waits for the employee, and the seconds a tool is told to wait between polls. */
    times: { lifetimeMs: number; pollIntervalSeconds?: number },
    /** The clock by which codes expire and the approval's reading time passes. */
    readonly now: () => number = Date.now,
  ) {
    this.lifetimeMs = times.lifetimeMs;
    this.pollIntervalSeconds = times.pollIntervalSeconds ?? POLL_INTERVAL_SECONDS;
  }

  async create(request: Pick<DeviceAuthorization, 'client' | 'target' | 'address' | 'userAgent'>) {
    const deviceCode = randomToken(32);
    const letters = Array.from({ length: USER_CODE_LENGTH }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join('');
    const userCode = normalUserCode(letters)!;
    const authorization: DeviceAuthorization = { ...request, userCode, expiresAt: this.now() + this.lifetimeMs, status: 'pending' };
    await this.save(deviceCode, authorization);
    await this.store.setRecord(`device-user-code:${userCode}`, deviceCode, this.lifetimeMs);
    return { deviceCode, userCode, expiresIn: Math.round(this.lifetimeMs / 1000), interval: this.pollIntervalSeconds };
  }

  /** The pending authorization a user code names, or undefined. */
  async find(userCode: string): Promise<{ deviceCode: string; authorization: DeviceAuthorization } | undefined> {
    const normal = normalUserCode(userCode);
    const deviceCode = normal ? await this.store.getRecord(`device-user-code:${normal}`) : undefined;
    return deviceCode ? this.pending(deviceCode) : undefined;
  }

  /** The authorization of a device code while it waits for the employee's answer, or undefined. */
  async pending(deviceCode: string): Promise<{ deviceCode: string; authorization: DeviceAuthorization } | undefined> {
    const authorization = await this.load(deviceCode);
    if (!authorization || authorization.status !== 'pending' || authorization.expiresAt <= this.now()) return undefined;
    return { deviceCode, authorization };
  }

  /**
   * The employee's answer, from `by`; false when the code was answered meanwhile (in another tab, or on another replica).
   * The answer is the store's one step, a swap from the pending authorization: a store that refuses it, or any step before
   * it, leaves the code pending and its user code good, for the employee's next Allow; taken in two steps (the user code,
   * then the answer), a store failing between them left the device waiting for an answer no page could give any more. The
   * user code goes after it: left there, it finds no pending authorization (`find`).
   */
  async decide(deviceCode: string, allowed: boolean, by: AllowedBy): Promise<boolean> {
    const key = `device:${deviceCode}`;
    const stored = await this.store.getRecord(key);
    const authorization = stored ? this.parse(stored) : undefined;
    if (!stored || authorization?.status !== 'pending' || authorization.expiresAt <= this.now()) return false;
    const allowedBy = { session: by.session, ...(by.mark !== undefined ? { mark: by.mark } : {}) };
    const answered: DeviceAuthorization = { ...authorization, ...(allowed ? { status: 'allowed', ...allowedBy } : { status: 'denied' }) };
    if (!(await this.store.swapRecord(key, stored, JSON.stringify(answered), this.keptMs(answered)))) return false;
    await this.store.takeRecord(`device-user-code:${authorization.userCode}`).catch(() => undefined);
    return true;
  }

  /**
   * Why an Allow is not taken (RFC 8628 §5.4): the code not typed as the device shows it, which an
   * employee sent a link by someone else cannot do, or the approval answered before it could be read.
   */
  allowRefusal(userCode: string, typed: string | undefined, shownAt: number): Problem | undefined {
    if (!typed || !typedCodeMatches(userCode, typed))
      return {
        code: 'user_code_mistyped',
        message:
          'The code you typed is not the one of this request. Type the code your device shows; if no device of yours shows one, deny.',
      };
    if (this.now() - shownAt < READING_MS)
      return { code: 'answered_unread', message: 'The page was answered before it could be read: read it, then answer again.' };
    return undefined;
  }

  /**
   * One poll of the tool, which names itself (RFC 8628 §3.4); it writes only its own record, so that it never overwrites the
   * employee's answer.
   */
  async poll(deviceCode: string, client: string): Promise<PollOutcome> {
    const authorization = await this.load(deviceCode);
    if (!authorization) return { kind: 'unknown' };
    // As an authorization code: refused before it slows the rightful poller down or takes its answer.
    if (sentByAnotherTool(client, authorization.client)) return { kind: 'other_client' };
    const now = this.now();
    if (authorization.expiresAt <= now) return { kind: 'expired' };
    const pollKey = `device-poll:${deviceCode}`;
    const polled = await this.store.getRecord(pollKey);
    const polling = polled ? Polling.parse(JSON.parse(polled)) : { lastPollAt: 0, interval: this.pollIntervalSeconds };
    const tooSoon = now - polling.lastPollAt < polling.interval * 1000 - POLL_TOLERANCE_MS;
    // RFC 8628 §3.5: after slow_down the client adds five seconds to its interval; the generator requires those five
    // seconds more, once. Raised again on each too-soon poll, it would outrun a client that starts its loop again at the
    // base interval (the command line's after a network error): both adding five, the client would never catch up.
    const interval = tooSoon ? this.pollIntervalSeconds + 5 : polling.interval;
    await this.store.setRecord(pollKey, JSON.stringify({ lastPollAt: now, interval }), authorization.expiresAt - now);
    if (tooSoon) return { kind: 'slow_down', interval };
    if (authorization.status === 'pending') return { kind: 'pending' };
    if (authorization.status === 'denied' || !authorization.session)
      return (await this.claim(deviceCode)) ? { kind: 'denied' } : { kind: 'used' };
    // Taken by `claim` once the tool's answer is ready: a poll that fails on its way leaves it for the next poll.
    return { kind: 'allowed', authorization: { ...authorization, session: authorization.session } };
  }

  /** Uses up an answered device code; false when another poll (on this replica or another) took it first. */
  async claim(deviceCode: string): Promise<boolean> {
    return this.store.takeRecord(`device:${deviceCode}`);
  }

  private async save(deviceCode: string, authorization: DeviceAuthorization): Promise<void> {
    await this.store.setRecord(`device:${deviceCode}`, JSON.stringify(authorization), this.keptMs(authorization));
  }

  /** How long a device code's record is kept: until it expires, and a while after, so that its poller hears expired_token. */
  private keptMs(authorization: DeviceAuthorization): number {
    return authorization.expiresAt + EXPIRED_KEPT_MS - this.now();
  }

  private async load(deviceCode: string): Promise<DeviceAuthorization | undefined> {
    const stored = await this.store.getRecord(`device:${deviceCode}`);
    return stored ? this.parse(stored) : undefined;
  }

  private parse(stored: string): DeviceAuthorization | undefined {
    const parsed = Authorization.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : undefined;
  }
}
