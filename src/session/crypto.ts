/**
 * Authenticated encryption for what this service hands to browsers and stores: AES-256-GCM with
 * a fresh IV per message, bound to a purpose so that a value sealed for one use opens for no other.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class Sealer {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error('the key must be 32 bytes');
    this.key = Buffer.from(key);
  }

  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${VERSION}:${context}`, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** The plaintext, or undefined for anything tampered with, sealed for another purpose or not sealed at all. */
  open(sealed: string, context = ''): string | undefined {
    if (typeof sealed !== 'string' || !sealed.startsWith(`${VERSION}.`)) return undefined;
    const encoded = sealed.slice(VERSION.length + 1);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
    const raw = Buffer.from(encoded, 'base64url');
    // One spelling per value: Node.js decodes a character more at the end, or other padding bits, to the same bytes.
    if (raw.length < IV_BYTES + TAG_BYTES || raw.toString('base64url') !== encoded) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`${VERSION}:${context}`, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/** A 32-byte key from base64, base64url or hex. */
export function parseKey(value: string): Uint8Array {
  const trimmed = value.trim();
  const candidates: Buffer[] = [];
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) candidates.push(Buffer.from(trimmed, 'hex'));
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) candidates.push(Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  const key = candidates.find((candidate) => candidate.length === 32);
  if (!key) {
    throw new Error(
      'must be 32 random bytes, encoded as base64 (44 characters) or hex (64 characters); make one with: openssl rand -base64 32',
    );
  }
  return new Uint8Array(key);
}

export function randomKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
