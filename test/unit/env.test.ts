import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { readCliEnv } from '../../src/cli/env.js';
import { emulatorEnv } from '../../packages/entra-emulator/src/env.js';
import { ConfigError } from '../../src/env.js';

/** The sentence a program prints for a bad variable, from whichever program's module read it. */
function fault(read: () => unknown): string {
  try {
    read();
  } catch (err) {
    if (err instanceof ConfigError) return err.sentence;
    throw err;
  }
  throw new Error('no fault');
}

describe('one helper for every program’s environment', () => {
  it('says the same kind of sentence for the generator, the emulator and the command line', () => {
    expect(fault(() => loadConfig({ PORT: 'abc' }))).toBe('PORT must be a whole number from 0 to 65535, not "abc"');
    expect(fault(() => emulatorEnv({ EMULATOR_PORT: 'abc' }))).toBe('EMULATOR_PORT must be a whole number from 0 to 65535, not "abc"');
    expect(fault(() => readCliEnv({ TOKEN_GENERATOR_URL: 'ftp://x' }))).toBe('TOKEN_GENERATOR_URL must be an http(s) URL, not "ftp://x"');
    expect(fault(() => loadConfig({ PUBLIC_URL: 'not a url' }))).toBe('PUBLIC_URL must be an http(s) URL, not "not a url"');
    expect(fault(() => emulatorEnv({ EMULATOR_PUBLIC_URL: 'not a url' }))).toBe(
      'EMULATOR_PUBLIC_URL must be an http(s) URL, not "not a url"',
    );
  });

  it('says what every variable must be, in the same words, for the emulator’s lists and switches too', () => {
    expect(fault(() => emulatorEnv({ EMULATOR_TLS: 'yes' }))).toBe(
      'EMULATOR_TLS must be "self-signed" (or unset, with EMULATOR_TLS_CERT and EMULATOR_TLS_KEY for a certificate of your own), not "yes"',
    );
    expect(fault(() => emulatorEnv({ EMULATOR_UNAUTHORIZED_TARGETS: 'dev-gcp:a:b, foo' }))).toBe(
      'EMULATOR_UNAUTHORIZED_TARGETS must be cluster:namespace:app targets separated by commas ("foo" is not one), not "dev-gcp:a:b, foo"',
    );
    expect(fault(() => loadConfig({ SESSION_MAX_LIFETIME_HOURS: '0' }))).toBe(
      'SESSION_MAX_LIFETIME_HOURS must be a number of at least 0.01, not "0"',
    );
  });

  it('reads the emulator’s LOG_LEVEL, and refuses one pino does not know', () => {
    expect(emulatorEnv({}).logLevel).toBe('info');
    expect(emulatorEnv({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(fault(() => emulatorEnv({ LOG_LEVEL: 'loud' }))).toMatch(
      /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, not "loud"$/,
    );
  });

  it('never shows a secret’s value', () => {
    const sentence = fault(() => loadConfig({ SESSION_ENCRYPTION_KEY: 'hunter2-not-a-key' }));
    expect(sentence).toMatch(/^SESSION_ENCRYPTION_KEY must be 32 random bytes/);
    expect(sentence).not.toContain('hunter2');
  });

  it('treats a blank variable as unset, and takes the command line’s cache file from XDG_CACHE_HOME', () => {
    expect(loadConfig({ PORT: '  ' }).generator.port).toBe(8080);
    expect(readCliEnv({ XDG_CACHE_HOME: '/tmp/x', TOKEN_GENERATOR_URL: '' })).toEqual({
      cacheFile: '/tmp/x/entra-token-generator/tokens.json',
    });
    expect(readCliEnv({ TOKEN_GENERATOR_CACHE: '/tmp/t.json', TOKEN_GENERATOR_URL: 'http://localhost:8080/' })).toEqual({
      cacheFile: '/tmp/t.json',
      generatorUrl: 'http://localhost:8080',
    });
  });
});
