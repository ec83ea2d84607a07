/**
 * Texas's token cache: a token per request (app, target and the rest) until two minutes before it
 * expires, or half its life when it lives no longer than that; callers asking at once for a token
 * it does not have share one request to Entra ID, as Texas's callers do.
 */
import { LRUCache } from 'lru-cache';
import type { TokenResponse } from './grants/index.js';

const EARLY_EXPIRY_MS = 120_000;
const MAX_CACHED = 1_000;

export interface TexasTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

interface Cached {
  response: { access_token: string; token_type: 'Bearer' };
  /** Epoch milliseconds. */
  expiresAt: number;
  freshUntil: number;
}

/** The cached token with the whole seconds it has left. */
function answerOf(entry: Cached): TexasTokenResponse {
  return { ...entry.response, expires_in: Math.max(0, Math.floor((entry.expiresAt - Date.now()) / 1000)) };
}

export class TexasTokenCache {
  private readonly entries = new LRUCache<string, Cached>({ max: MAX_CACHED });
  private readonly pending = new Map<string, Promise<Cached>>();

  /** The token kept for `key`, or a new one from `make` (always when `skip`, Texas's skip_cache). */
  async token(key: string, skip: boolean, make: () => Promise<TokenResponse>): Promise<TexasTokenResponse> {
    const hit = this.entries.get(key);
    if (hit && !skip && Date.now() < hit.freshUntil) return answerOf(hit);
    const inFlight = skip ? undefined : this.pending.get(key);
    if (inFlight) return answerOf(await inFlight);
    const made = this.store(key, make);
    this.pending.set(key, made);
    try {
      return answerOf(await made);
    } finally {
      if (this.pending.get(key) === made) this.pending.delete(key);
    }
  }

  private async store(key: string, make: () => Promise<TokenResponse>): Promise<Cached> {
    const answer = await make();
    const now = Date.now();
    const lifetime = Number(answer.expires_in) * 1000;
    const entry: Cached = {
      response: { access_token: String(answer.access_token), token_type: 'Bearer' },
      expiresAt: now + lifetime,
      freshUntil: now + (lifetime > EARLY_EXPIRY_MS ? lifetime - EARLY_EXPIRY_MS : lifetime / 2),
    };
    this.entries.set(key, entry);
    return entry;
  }
}
