/** Which of this service's cookies a Cookie header carries twice: the session's, the loop guard's, and each login's. */
import { describe, expect, it } from 'vitest';
import { duplicatedCookies } from '../../src/generator/http/duplicate-cookies.js';
import { cookieNames } from '../../src/paths.js';

describe('duplicatedCookies', () => {
  const names = cookieNames('http://tg.nav.test');

  it("finds a login's cookie sent twice, and not two logins' cookies sent once each", () => {
    const one = names.login('state-one');
    const two = names.login('state-two');
    expect(one).not.toBe(two);
    expect(duplicatedCookies(`${one}=a; ${two}=b; ${names.loop}=c`, names)).toEqual([]);
    expect(duplicatedCookies(`${one}=a; ${two}=b; ${one}=tossed`, names)).toEqual([one]);
    expect(duplicatedCookies(`other=a; other=b`, names)).toEqual([]);
    expect(duplicatedCookies(`${names.session}=a; ${names.session}=b; ${names.loop}=c; ${names.loop}=d`, names)).toEqual([
      names.session,
      names.loop,
    ]);
  });

  it("names a login's cookie from any state, and takes no other name for one", () => {
    for (const state of ['', 'a'.repeat(5000), 'x; y=z', '\u00e6\u00f8\u00e5']) {
      expect(names.login(state)).toMatch(/^tg_login_[A-Za-z0-9_-]{16}$/);
      expect(names.isLogin(names.login(state))).toBe(true);
    }
    for (const name of [names.loop, names.session, 'tg_login', 'tg_login_short', `${names.login('s')}x`, `__Host-${names.login('s')}`]) {
      expect(names.isLogin(name)).toBe(false);
    }
    expect(cookieNames('https://tg.example').login('s')).toMatch(/^__Host-tg_login_/);
  });
});
