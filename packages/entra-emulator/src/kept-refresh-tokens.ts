/**
 * The refresh tokens an emulator with a state folder hands out outlive it: written when it closes and
 * read back when it starts, so that after `npm start` again the generator's logins (which it renews with
 * the emulator's refresh tokens), MSAL's silent renewals and the command line's sessions go on, as they
 * would with Entra ID, whose refresh tokens do not end when a server restarts. Written whole, readable
 * by the owner alone, as every file of the state folder.
 */
import { z } from 'zod';
import type { RefreshGrant } from './model.js';
import type { StateFolder } from './state.js';
import type { BoundedStore } from './stores.js';

const FILE = 'refresh-tokens.json';

const KEPT = z.array(
  z.object({
    key: z.string().min(1),
    expiresAt: z.number(),
    value: z.object({
      clientId: z.string(),
      scopes: z.array(z.string()),
      employee: z.object({ navIdent: z.string(), name: z.string(), email: z.string(), groups: z.array(z.string()) }),
      sessionId: z.string(),
      publicClient: z.boolean(),
      spaUntil: z.number().optional(),
    }) satisfies z.ZodType<RefreshGrant>,
  }),
);

const readKept = (state: StateFolder) => state.read(FILE, KEPT).catch(() => undefined);

/** Takes back the refresh tokens kept at the last close; a file this emulator cannot read is taken as none (they are no key). */
export async function restoreRefreshTokens(store: BoundedStore<RefreshGrant>, state: StateFolder): Promise<void> {
  const kept = await readKept(state);
  if (kept) store.restore(kept);
}

/**
 * Keeps the store's refresh tokens beside those the file holds and have not expired: another emulator may share the
 * state folder (`npm start`'s and an app's own on another port), and its tokens stay good too.
 */
export async function keepRefreshTokens(store: BoundedStore<RefreshGrant>, state: StateFolder): Promise<void> {
  const now = Date.now();
  const kept = new Map((await readKept(state))?.filter((entry) => entry.expiresAt > now).map((entry) => [entry.key, entry]));
  for (const entry of store.snapshot()) kept.set(entry.key, entry);
  await state.write(FILE, [...kept.values()]);
}
