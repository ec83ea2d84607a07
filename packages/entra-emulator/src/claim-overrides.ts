/**
 * ClaimValues a test suite sets on the tokens the emulator issues: for the next token only, or for every
 * token until taken back. A value of `undefined` removes the claim (a token without `groups`, say).
 * Applied when a token is signed, so tokens from the token endpoint, Texas's API and the direct
 * helpers all carry them.
 */
import type { JWTPayload } from 'jose';

export type ClaimValues = Record<string, unknown>;

export class ClaimOverrides {
  private readonly every: ClaimValues[] = [];
  private readonly next: ClaimValues[] = [];

  /** Adds claims to the next token, or to every token; returns a function that takes them back. */
  add(claims: ClaimValues, options: { every?: boolean } = {}): () => void {
    const list = options.every ? this.every : this.next;
    const entry = { ...claims };
    list.push(entry);
    return () => {
      const index = list.indexOf(entry);
      if (index !== -1) list.splice(index, 1);
    };
  }

  clear(): void {
    this.every.length = 0;
    this.next.length = 0;
  }

  apply(payload: JWTPayload): JWTPayload {
    if (this.every.length === 0 && this.next.length === 0) return payload;
    const result: ClaimValues = { ...payload };
    const once = this.next.shift();
    for (const claims of once ? [...this.every, once] : this.every) {
      for (const [name, value] of Object.entries(claims)) {
        if (value === undefined) delete result[name];
        else result[name] = value;
      }
    }
    return result as JWTPayload;
  }
}
