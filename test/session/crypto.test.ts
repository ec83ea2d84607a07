import { describe, expect, it } from 'vitest';
import { parseKey, randomKey, Sealer } from '../../src/session/index.js';

describe('Sealer', () => {
  const sealer = new Sealer(randomKey());

  it('opens what it sealed, for the same purpose only', () => {
    const sealed = sealer.seal('secret value', 'login-state');
    expect(sealed).not.toContain('secret');
    expect(sealer.open(sealed, 'login-state')).toBe('secret value');
    expect(sealer.open(sealed, 'session-ticket')).toBeUndefined();
    expect(sealer.seal('same', 'x')).not.toBe(sealer.seal('same', 'x'));
  });

  it('refuses any change to a sealed value, another key, and garbage', () => {
    const sealed = sealer.seal('value', 'c');
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const tampered = Buffer.from(raw);
      tampered[i] = tampered[i]! ^ 1;
      expect(sealer.open(`v1.${tampered.toString('base64url')}`, 'c')).toBeUndefined();
    }
    expect(new Sealer(randomKey()).open(sealed, 'c')).toBeUndefined();
    // Nor another spelling of the same bytes: a character more, whatever the length (one in four lengths decodes it away).
    for (const value of ['v', 'va', 'val', 'valu']) {
      const spelled = sealer.seal(value, 'c');
      expect(sealer.open(spelled, 'c')).toBe(value);
      expect(sealer.open(`${spelled}x`, 'c')).toBeUndefined();
    }
    for (const garbage of ['', 'v1.', 'v1.!!!', 'v2.abc', sealed.slice(0, 20), 'x'.repeat(1000)]) {
      expect(sealer.open(garbage, 'c')).toBeUndefined();
    }
  });
});

describe('parseKey', () => {
  it('takes 32 bytes as base64, base64url or hex', () => {
    const bytes = Buffer.alloc(32, 7);
    expect(Buffer.from(parseKey(bytes.toString('base64')))).toEqual(bytes);
    expect(Buffer.from(parseKey(bytes.toString('base64url')))).toEqual(bytes);
    expect(Buffer.from(parseKey(bytes.toString('hex')))).toEqual(bytes);
  });

  it('refuses other lengths with a message that says what is expected', () => {
    for (const value of [Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('base64'), 'not a key', '']) {
      expect(() => parseKey(value)).toThrow(/32 random bytes/);
    }
  });
});
