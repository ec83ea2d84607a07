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

/** Takes back the refresh tokens the last close kept; a file this emulator cannot read is taken as none (they are no key). */
export async function restoreRefreshTokens(store: BoundedStore<RefreshGrant>, state: StateFolder): Promise<void> {
  const kept = await state.read(FILE, KEPT).catch(() => undefined);
  if (kept) store.restore(kept);
}

export async function keepRefreshTokens(store: BoundedStore<RefreshGrant>, state: StateFolder): Promise<void> {
  await state.write(FILE, store.snapshot());
}
