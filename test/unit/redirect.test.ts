import { describe, expect, it } from 'vitest';
import { safeReturnPath } from '../../src/generator/redirect.js';
import { OPEN_REDIRECT_PAYLOADS, SAFE_RETURN_PATHS } from './open-redirect-corpus.js';

describe('return targets after login', () => {
  it('has a corpus of more than 200 distinct open-redirect payloads', () => {
    expect(new Set(OPEN_REDIRECT_PAYLOADS).size).toBeGreaterThanOrEqual(250);
  });

  it.each(OPEN_REDIRECT_PAYLOADS.map((payload) => [JSON.stringify(payload).slice(0, 80), payload]))('refuses %s', (_name, payload) => {
    expect(safeReturnPath(payload)).toBeUndefined();
  });

  it.each(SAFE_RETURN_PATHS)('accepts %s unchanged', (path) => {
    expect(safeReturnPath(path)).toBe(path);
  });

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 1, ['/'], { path: '/' }]) expect(safeReturnPath(value)).toBeUndefined();
  });
});
