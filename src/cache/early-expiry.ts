/**
 * A cached token is not handed out in its last two minutes: time for the caller to use it (the generator's caches and the command
 * line's). A module of its own so that the command line takes it without the generator's cache library.
 */
export const EARLY_EXPIRY_MS = 120_000;
