import { describe, expect, it } from 'vitest';
import { safeReturnPath } from '../../src/generator/http/redirect.js';
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

describe('return paths with characters outside Latin-1', () => {
  it.each([
    ['/\u0100', '/%C4%80'],
    ['/api/obo?aud=dev-gcp:team:app&note=\u20ac', '/api/obo?aud=dev-gcp:team:app&note=%E2%82%AC'],
    ['/\u65e5\u672c/\u{1f600}', '/%E6%97%A5%E6%9C%AC/%F0%9F%98%80'],
    ['/caf\u00e9', '/caf%C3%A9'],
  ])('sends %s as the ASCII %s', (path, ascii) => {
    expect(safeReturnPath(path)).toBe(ascii);
  });

  it('refuses one longer than 2,048 characters once encoded, however short it was before', () => {
    const ascii = `/api/obo?note=${'e'.repeat(2_048 - '/api/obo?note='.length)}`;
    expect(safeReturnPath(ascii)).toBe(ascii);
    expect(safeReturnPath(`${ascii}e`)).toBeUndefined();
    // 1,500 characters, 9,000 once encoded: a sealed login state of 12 KB, more than a browser keeps as a cookie.
    expect(safeReturnPath(`/api/obo?note=${'\u00e9'.repeat(1_500)}`)).toBeUndefined();
  });

  it('refuses a lone surrogate, which no URL can hold', () => {
    expect(safeReturnPath('/a\ud800b')).toBeUndefined();
  });
});

describe('return paths whose query holds encoded white space', () => {
  it('accepts a tool’s scope with %20 between its parts, and still refuses encoded white space in the path', () => {
    const path = '/oauth2/authorize?scope=dev-gcp:my-team:my-app%20openid%20offline_access&state=a%09b#x%20y';
    expect(safeReturnPath(path)).toBe(path);
    expect(safeReturnPath('/%20/evil.com?a=b')).toBeUndefined();
    expect(safeReturnPath('/a b?c=d')).toBeUndefined();
    expect(safeReturnPath('/?a=b c')).toBeUndefined();
  });
});
