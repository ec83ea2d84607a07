/**
 * The headless route's reading of the emulator's answer to its sign-in: the callback it redirects to,
 * resolved as a browser resolves a Location (a relative one against the page that answered), or the
 * refusal it says there, read by the core's one rule; anything else is the provider's bad answer, never a 500.
 */
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/generator/core/problem.js';
import { callbackOf } from '../../src/generator/http/public-api/headless-obo.js';
import { FakeProvider } from '../../src/generator/idp/fake.js';
import { IdpError } from '../../src/generator/idp/identity-provider.js';

const AUTHORIZE = 'https://emulator.test:8081/tenant/oauth2/v2.0/authorize?client_id=x';
const provider = new FakeProvider();

const answer = (status: number, location?: string) => new Response(null, { status, headers: location ? { location } : {} });
const read = (signedIn: Response) => callbackOf(signedIn, AUTHORIZE, provider, 'trygdeetaten.no');
const thrown = (signedIn: Response): unknown => {
  try {
    read(signedIn);
  } catch (err) {
    return err;
  }
  throw new Error('the answer was read as a callback');
};

describe("the emulator's answer to the headless sign-in", () => {
  it('is the callback it redirects to, an absolute Location as it is and a relative one against the sign-in page', () => {
    const absolute = 'http://localhost:8080/oauth2/callback?code=c&state=s';
    expect(read(answer(302, absolute)).href).toBe(absolute);
    expect(read(answer(302, '/oauth2/callback?code=c&state=s')).href).toBe('https://emulator.test:8081/oauth2/callback?code=c&state=s');
    expect(read(answer(302, 'callback?code=c')).href).toBe('https://emulator.test:8081/tenant/oauth2/v2.0/callback?code=c');
  });

  it("is the provider's bad answer when it is no redirect, has no Location, or one that is no URL", () => {
    for (const [signedIn, detail] of [
      [answer(200), 'the login page answered HTTP 200'],
      [answer(302), 'the login page answered HTTP 302 without a Location'],
      [answer(302, 'http://[not a host]/callback'), 'the login page answered HTTP 302 with a Location that is no URL'],
    ] as const) {
      const err = thrown(signedIn);
      expect(err).toBeInstanceOf(IdpError);
      expect((err as IdpError).failure).toMatchObject({ kind: 'bad-response', detail });
    }
  });

  it("carries the provider's refusal, read by the core's rule for a headless login", () => {
    const refusal = (description: string) =>
      thrown(answer(302, `/cb?error=access_denied&error_description=${encodeURIComponent(description)}&state=s`)) as ProblemError;
    const notAssigned = refusal('AADSTS50105: The signed in user is not assigned to a role');
    expect(notAssigned).toBeInstanceOf(ProblemError);
    expect(notAssigned.problem).toMatchObject({ code: 'user_not_allowed', message: expect.stringContaining('AADSTS50105: The signed in') });
    // The headless caller signs in as the test employee of LOGIN_TENANT_DOMAIN: no other account to choose.
    const otherTenant = refusal("AADSTS50020: User account 'z990009@elsewhere.example' does not exist in tenant");
    expect(otherTenant.problem).toMatchObject({ code: 'login_failed', message: expect.stringContaining('AADSTS50020: User account') });
  });
});
