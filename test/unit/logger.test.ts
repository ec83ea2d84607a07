import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, lazyChild } from '../../src/logger.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger(level, destination), lines };
}

describe('lazyChild', () => {
  it('makes the pino child only when something is written, with the bindings and the redaction of a real child', () => {
    const { logger, lines } = capture();
    const child = vi.spyOn(logger, 'child');
    const lazy = lazyChild(logger, { reqId: 'r-1' });
    lazy.debug('below the level');
    expect(lazy.level).toBe('info');
    expect(lazy.isLevelEnabled('debug')).toBe(false);
    expect(child).not.toHaveBeenCalled();

    lazy.warn({ token: 'eyJ.secret.value', detail: { access_token: 'abc' } }, 'something happened');
    lazy.info('and again');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      reqId: 'r-1',
      token: '[redacted]',
      detail: { access_token: '[redacted]' },
      msg: 'something happened',
    });
    expect(lines[1]).toMatchObject({ level: 'info', reqId: 'r-1', msg: 'and again' });
  });

  it('gives children of its own that keep its bindings', () => {
    const { logger, lines } = capture();
    lazyChild(logger, { reqId: 'r-2' }).child({ component: 'x' }).error('failed');
    expect(lines[0]).toMatchObject({ level: 'error', reqId: 'r-2', component: 'x', msg: 'failed' });
  });
});

describe('redactUrl', () => {
  it('blanks codes and tokens in the query, in URLs nested in its values however often encoded, and in fragments', async () => {
    const { redactUrl } = await import('../../src/logger.js');
    const secret = 'SECRETCODE123';
    const cases = [
      `/oauth2/callback?code=${secret}&state=s1`,
      `/oauth2/login?redirect=/x?code=${secret}`,
      `/oauth2/login?redirect=${encodeURIComponent(`/x?code=${secret}`)}`,
      `/oauth2/login?redirect=${encodeURIComponent(encodeURIComponent(`/x?a=1&access_token=${secret}`))}`,
      `/oauth2/login?redirect=${encodeURIComponent(`/y?redirect=${encodeURIComponent(`/z?token=${secret}`)}`)}`,
      `/oauth2/cli/login?redirect_uri=${encodeURIComponent(`http://127.0.0.1:1/cb#id_token=${secret}`)}`,
      `/x#access_token=${secret}`,
      `/oauth2/login?redirect=${encodeURIComponent(`code=${secret}`)}`,
      // Parameters the generator does not read, which a tool may still put in a URL.
      `/oauth2/token?grant_type=password&username=kari&password=${secret}`,
      `/oauth2/token?client_assertion_type=jwt-bearer&client_assertion=${secret}`,
      `/oauth2/token?grant_type=token-exchange&subject_token=${secret}`,
      `/oauth2/logout?CSRF_TOKEN=${secret}`,
      `/api/public/m2m?accessToken=${secret}&clientSecret=${secret}`,
      `/api/public/m2m?refresh-token=${secret}&api_key=${secret}`,
      `/api/public/m2m?apikey=${secret}&sig=${secret}&pwd=${secret}`,
    ];
    for (const url of cases) {
      const redacted = redactUrl(url);
      expect(redacted, url).not.toContain(secret);
      expect(decodeURIComponent(decodeURIComponent(redacted)), url).not.toContain(secret);
      expect(redacted, url).toContain('redacted');
    }
    expect(redactUrl('/api/obo?aud=dev-gcp:team:app')).toBe('/api/obo?aud=dev-gcp%3Ateam%3Aapp');
    expect(redactUrl('/oauth2/login?redirect=%2Fapi%2Fobo%3Faud%3Da')).toContain('aud');
    expect(redactUrl('/internal/isalive')).toBe('/internal/isalive');
    expect(redactUrl('/oauth2/authorize?client_id=Bruno&code_challenge=abc&scope=x')).toBe(
      '/oauth2/authorize?client_id=Bruno&code_challenge=abc&scope=x',
    );
    // Words that end in a secret's word without being one stay.
    expect(redactUrl('/x?monkey=1&barcode=2&response_mode=query&grant_type=code&redirect_uri=%2Fa')).toBe(
      '/x?monkey=1&barcode=2&response_mode=query&grant_type=code&redirect_uri=%2Fa',
    );
  });
});
