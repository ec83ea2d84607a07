import { createHash } from 'node:crypto';

/**
 * SHA-256 of a value as base64url: what the service keeps or sends in place of a secret (a session id, a
 * state, a rate-limit key), and PKCE's S256 transform (RFC 7636 §4.2).
 */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
