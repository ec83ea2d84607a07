/** The keys made ahead (`rsa-keys.ts`) are what a new key would be: distinct, working, with the usages and extractability asked for. */
import { webcrypto } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { describe, expect, inject, it } from 'vitest';

const madeAhead = new Set((inject('rsaKeys') ?? []).map((key) => key.n));

describe('RSA keys in a test file', () => {
  it('are the keys made ahead, none given twice, each signing what its public key verifies', async () => {
    const pairs = await Promise.all(Array.from({ length: 3 }, () => generateKeyPair('RS256', { extractable: true })));
    const moduli = await Promise.all(pairs.map(async ({ publicKey }) => (await exportJWK(publicKey)).n));
    expect(new Set(moduli).size).toBe(3);
    for (const n of moduli) expect(madeAhead.has(n)).toBe(true);
    for (const { privateKey, publicKey } of pairs) {
      const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      await expect(jwtVerify(token, publicKey)).resolves.toBeTruthy();
      await expect(jwtVerify(token, pairs.find((other) => other.publicKey !== publicKey)!.publicKey)).rejects.toThrow();
    }
  });

  it('keep a private key unexportable unless asked, and give RSA-PSS (PS256) keys too', async () => {
    const { privateKey, publicKey } = await generateKeyPair('PS256');
    expect(privateKey.extractable).toBe(false);
    expect(privateKey.usages).toEqual(['sign']);
    expect(publicKey.extractable).toBe(true);
    expect(publicKey.usages).toEqual(['verify']);
    expect((publicKey.algorithm as webcrypto.RsaHashedKeyAlgorithm).hash.name).toBe('SHA-256');
    await expect(webcrypto.subtle.exportKey('jwk', privateKey)).rejects.toThrow();
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'PS256' }).sign(privateKey);
    await expect(jwtVerify(token, publicKey)).resolves.toBeTruthy();
  });

  it('are generated anew for other sizes, and once the ones made ahead are used up', async () => {
    const larger = await generateKeyPair('RS256', { modulusLength: 3072, extractable: true });
    expect(madeAhead.has((await exportJWK(larger.publicKey)).n)).toBe(false);
    const rest = await Promise.all(Array.from({ length: madeAhead.size }, () => generateKeyPair('RS256', { extractable: true })));
    const moduli = await Promise.all(rest.map(async ({ publicKey }) => (await exportJWK(publicKey)).n));
    // The file took four before: the last of these are new.
    expect(moduli.filter((n) => !madeAhead.has(n)).length).toBeGreaterThan(0);
    expect(new Set(moduli).size).toBe(moduli.length);
  }, 60_000);
});
