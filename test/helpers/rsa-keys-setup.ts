/**
 * The RSA-2048 keys of `rsa-keys.ts`, made once for the checkout and kept in node_modules/.cache: a run starts a
 * few hundred emulators, generators and team apps, each making a key of its own, at about 150 ms of CPU a key on
 * these machines (7 % of a run's CPU). A file's processes take them in order, so no two keys of one file are the
 * same; files run in processes of their own, with servers of their own, so a key seen in two files is never seen
 * twice by one emulator.
 */
import { generateKeyPair, type JsonWebKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

/** Twice what the hungriest file made (14, the command line's); a file that makes more gets the rest generated. */
const RSA_KEY_COUNT = 32;

const CACHE = fileURLToPath(new URL('../../node_modules/.cache/test-keys/rsa-2048.json', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** Private RSA-2048 keys (JWK, public exponent 65537) that `rsa-keys.ts` hands out in place of new ones. */
    rsaKeys?: JsonWebKey[];
  }
}

async function made(): Promise<JsonWebKey[]> {
  const keys = await Promise.all(
    Array.from({ length: RSA_KEY_COUNT }, async () => {
      const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048, publicExponent: 65537 });
      return privateKey.export({ format: 'jwk' });
    }),
  );
  await mkdir(dirname(CACHE), { recursive: true });
  // Two runs side by side each write a whole file; the rename makes one of them the file.
  const written = `${CACHE}.${process.pid}`;
  await writeFile(written, JSON.stringify(keys));
  await rename(written, CACHE);
  return keys;
}

async function kept(): Promise<JsonWebKey[] | undefined> {
  try {
    const keys = JSON.parse(await readFile(CACHE, 'utf8')) as JsonWebKey[];
    const whole = (key: JsonWebKey) =>
      key.kty === 'RSA' && key.e === 'AQAB' && [key.n, key.d, key.p, key.q].every((part) => typeof part === 'string');
    return Array.isArray(keys) && keys.length === RSA_KEY_COUNT && keys.every(whole) ? keys : undefined;
  } catch {
    return undefined;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('rsaKeys', (await kept()) ?? (await made()));
}
