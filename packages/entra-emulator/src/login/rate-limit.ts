/**
 * A limit on sign-in requests (the authorize endpoint, GET and POST) per client address: at most
 * `max` in each window of the store's lifetime. Each sign-in can start a sign-on session and issue
 * a code, so a flood is turned away before it costs memory.
 */
import type { Attempts } from '../model.js';
import type { BoundedStore } from '../stores.js';

export class SignInRateLimit {
  constructor(
    private readonly attempts: BoundedStore<Attempts>,
    /** Sign-in requests an address may make in a window; 0 is no limit. */
    readonly max: number,
  ) {}

  get windowSeconds(): number {
    return Math.round(this.attempts.limits.lifetimeMs / 1000);
  }

  /** Undefined when the request may go on, else the seconds to wait. */
  take(address: string): number | undefined {
    if (this.max === 0) return undefined;
    let window = this.attempts.get(address);
    if (!window) {
      window = { count: 0, endsAt: Date.now() + this.attempts.limits.lifetimeMs };
      this.attempts.set(address, window);
    }
    window.count++;
    return window.count <= this.max ? undefined : Math.max(1, Math.ceil((window.endsAt - Date.now()) / 1000));
  }
}
