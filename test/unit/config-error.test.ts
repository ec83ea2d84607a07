/** ConfigError across copies of its module: the emulator's bundle carries its own, which the generator's production build meets. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config-error.js';
import { faultSentence } from '../../src/env.js';

/** A second, separate instance of the module, as another bundle would hold it (Vite loads a path with a query anew). */
async function anotherCopy(): Promise<typeof import('../../src/config-error.js')> {
  const specifier = '../../src/config-error.ts?another-copy';
  return (await import(/* @vite-ignore */ specifier)) as typeof import('../../src/config-error.js');
}

describe('ConfigError', () => {
  it('recognises a ConfigError thrown by another copy of its module, and says it as a sentence', async () => {
    const other = await anotherCopy();
    expect(other.ConfigError).not.toBe(ConfigError);
    const err = new other.ConfigError('EMULATOR_TLS', 'must be one of off, self-signed, not "x"');
    expect(err).toBeInstanceOf(ConfigError);
    expect(faultSentence(err)).toBe('EMULATOR_TLS must be one of off, self-signed, not "x"');
  });

  it('recognises nothing else', () => {
    expect(new Error('EMULATOR_TLS: must be')).not.toBeInstanceOf(ConfigError);
    expect(faultSentence(new Error('boom'))).toBe('boom');
    expect(null).not.toBeInstanceOf(ConfigError);
  });
});
