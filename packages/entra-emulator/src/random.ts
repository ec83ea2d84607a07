/** Random values as base64url, cut from a pool refilled from the CSPRNG 4 KB at a time (every token takes some). */
import { randomBytes } from 'node:crypto';

let pool = Buffer.alloc(0);
let offset = 0;

export function randomToken(bytes = 32): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(Math.max(4096, bytes));
    offset = 0;
  }
  const value = pool.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return value;
}
