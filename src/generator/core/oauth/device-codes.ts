/**
 * The device code grant (RFC 8628 §3.4, §3.5): a tool's poll answered in the RFC's words and, once the
 * employee allowed it, the tool's own session started. As an authorization code (`codes.ts`), the device
 * code is used up only by a poll whose answer is ready (`ToolSessions.firstAnswer`): one that failed on
 * the way leaves the tool its device code to poll again.
 */
import type { DeviceAuthorizations } from '../device-authorizations.js';
import { refuse } from '../problem.js';
import type { RedeemedCode } from './codes.js';
import type { ToolSessions } from './tool-sessions.js';
import type { Waiting } from './waiting.js';

/** What a tool sends in a poll, as the token endpoint read it. */
export interface DevicePoll {
  deviceCode: string;
  /** The tool's name, when it sent one. */
  client: string | undefined;
  /** Whether the tool still waits for its answer (`waiting.ts`). */
  waiting?: Waiting;
}

const used = () => refuse('invalid_grant', 'This device_code was already used: start a new device authorization.');

export class DeviceCodes {
  constructor(
    private readonly devices: DeviceAuthorizations,
    private readonly tools: ToolSessions,
  ) {}

  /** The poll counted and answered; once allowed, the tool session started, `answer` made, and only then the code used up. */
  async redeem<T>(asked: DevicePoll, answer: (redeemed: RedeemedCode) => Promise<T>): Promise<T> {
    const { deviceCode, client } = asked;
    // RFC 8628 §3.4: a client that does not authenticate names itself in each poll, so that only the tool the code was
    // issued to takes its answer. Refused before the poll is counted.
    if (client === undefined)
      throw refuse(
        'invalid_request',
        'Send client_id with each poll: the one the device authorization was started with (RFC 8628 section 3.4).',
      );
    const outcome = await this.devices.poll(deviceCode, client);
    switch (outcome.kind) {
      case 'unknown':
        throw refuse('invalid_grant', 'This device_code is not known: start a new device authorization.');
      case 'other_client':
        throw refuse('invalid_grant', 'This device_code was issued to another client_id.');
      case 'used':
        throw used();
      case 'expired':
        throw refuse('expired_token', 'The user code expired before it was approved: start a new device authorization.');
      case 'slow_down':
        throw refuse('slow_down', `Polling too fast: wait ${outcome.interval} seconds between requests.`);
      case 'pending':
        throw refuse('authorization_pending', 'The employee has not answered yet: keep polling at the interval.');
      case 'denied':
        throw refuse('access_denied', 'The employee denied this request.');
      case 'allowed': {
        const { session: browserSession, mark, target, address, userAgent } = outcome.authorization;
        const from = `${address}${userAgent ? ` (${userAgent.slice(0, 60)})` : ''}`;
        const started = await this.tools.start({ session: browserSession, mark }, { client: outcome.authorization.client, target }, from);
        const { session, refreshToken } = started;
        const claim = async () => {
          if (!(await this.devices.claim(deviceCode))) throw used();
        };
        return this.tools.firstAnswer(started, () => answer({ session, refreshToken, target }), claim, asked.waiting);
      }
    }
  }
}
