/**
 * What `npm start` (the generator with its emulator, on a laptop or in CI) keeps of its logins between
 * starts, in the emulator's state folder beside the tenant and keys kept there, readable by the user
 * alone: the session key, and the sessions of its in-memory store, sealed with that key, written when
 * it stops and read when it starts. After `npm start` again the browser's session and the command
 * line's refresh token still work. On NAIS the key is SESSION_ENCRYPTION_KEY, from the secret, as
 * before, and a key given in that variable always wins.
 */
import { readFile, rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { GeneratorConfig } from './config.js';
import { MemoryStore, randomKey, Sealer, type SessionStore } from './session/index.js';
import type { StoreSnapshot } from './session/memory-store.js';

const KEY_FILE = 'session-key.json';
const SESSIONS_FILE = 'sessions.sealed';
/** What the sealed sessions are sealed for: they open as nothing else. */
const PURPOSE = 'kept-sessions';
const KEPT = z.object({ key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/) });

/** The configuration with the kept session key, unless SESSION_ENCRYPTION_KEY gave one. */
export async function withKeptSessionKey(config: GeneratorConfig, stateDir: string, logger: Logger): Promise<GeneratorConfig> {
  if (config.session.encryptionKey) return config;
  const kept = await keptSessionKey(stateDir);
  logger.info(`sessions use the key kept in ${kept.file} (no SESSION_ENCRYPTION_KEY): logins last across restarts`);
  return { ...config, session: { ...config.session, encryptionKey: kept.key } };
}

/** The emulator's state folder, from its package, loaded only where the emulator runs (not on NAIS). */
const openStateFolder = async (stateDir: string) => (await import('entra-emulator')).StateFolder.open(stateDir);

async function keptSessionKey(stateDir: string): Promise<{ key: Uint8Array; file: string }> {
  const folder = await openStateFolder(stateDir);
  const kept = await folder.read(KEY_FILE, KEPT);
  if (kept) return { key: new Uint8Array(Buffer.from(kept.key, 'base64')), file: folder.file(KEY_FILE) };
  const key = randomKey();
  await folder.write(KEY_FILE, { key: Buffer.from(key).toString('base64') });
  return { key, file: folder.file(KEY_FILE) };
}

/**
 * Reads back the sessions the last stop wrote (once: the file is removed, so a crash never brings back
 * sessions ended since), and returns what writes them at the next stop. Only for the memory store.
 */
export async function keepSessions(store: SessionStore, key: Uint8Array, stateDir: string): Promise<() => Promise<void>> {
  if (!(store instanceof MemoryStore)) return async () => undefined;
  const folder = await openStateFolder(stateDir);
  const sealer = new Sealer(key);
  const file = folder.file(SESSIONS_FILE);
  const sealed = await readFile(file, 'utf8').catch(() => undefined);
  const opened = sealed === undefined ? undefined : sealer.open(sealed.trim(), PURPOSE);
  if (opened) store.restore(JSON.parse(opened) as StoreSnapshot);
  await rm(file, { force: true });
  return async () => {
    await folder.writeText(SESSIONS_FILE, sealer.seal(JSON.stringify(store.snapshot()), PURPOSE));
  };
}
