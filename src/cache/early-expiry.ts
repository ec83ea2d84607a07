/**
 * A cached token is not handed out in its last two minutes (for tokens that live less than four minutes a shorter margin,
 * `earlyExpiryMs`), in the generator's caches and the command line's: time for the caller to use it. A module of its own so that
 * the command line takes it without the generator's cache library.
 */
const EARLY_EXPIRY_MS = 120_000;
/** Never less than this: a token handed out with less than a second left says `expires_in: 0`. */
const LEAST_MS = 1_000;

/**
 * The margin for a token that lives `lifetimeMs`: two minutes, or half its lifetime when that is less. A token that lives two
 * minutes or less (the emulator's EMULATOR_TOKEN_LIFETIME_SECONDS, set short to try expiry) would otherwise never be kept, and
 * every ask would be a fresh one against the fresh-token limit. Half: a token from the cache still has at least half the life of a
 * fresh one, and the cache still spares all but one ask in each half lifetime. Entra ID's tokens live an hour or more, so they
 * keep the full two minutes.
 */
export function earlyExpiryMs(lifetimeMs: number): number {
  return Math.min(EARLY_EXPIRY_MS, Math.max(LEAST_MS, lifetimeMs / 2));
}
