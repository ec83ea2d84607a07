import { describe, expect, it } from 'vitest';
import { parseAudience } from '../../src/audience.js';

describe('accepted audiences', () => {
  it.each([
    ['dev-gcp:my-team:my-app'],
    ['dev-gcp.my-team.my-app'],
    ['api://dev-gcp.my-team.my-app/.default'],
    ['api://dev-gcp.my-team.my-app'],
    // NAIS names are lower case: upper case typed is read in lower case.
    ['Dev-GCP:My-Team:My-App'],
    ['DEV-GCP.MY-TEAM.MY-APP'],
    ['api://Dev-GCP.My-Team.My-App/.default'],
    // A URI's scheme is case-insensitive: API:// is api://.
    ['API://dev-gcp.my-team.my-app/.default'],
    ['Api://Dev-GCP.My-Team.My-App'],
  ])('%s means the scope api://dev-gcp.my-team.my-app/.default', (audience) => {
    const result = parseAudience(audience);
    expect(result).toEqual({
      ok: true,
      value: {
        cluster: 'dev-gcp',
        namespace: 'my-team',
        app: 'my-app',
        target: 'dev-gcp:my-team:my-app',
        scope: 'api://dev-gcp.my-team.my-app/.default',
      },
    });
  });

  it('accepts parts of 63 characters, digits and inner dashes', () => {
    const long = `a${'b'.repeat(61)}c`;
    expect(parseAudience(`${long}:${long}:${long}`).ok).toBe(true);
    expect(parseAudience('prod-fss:team-2:0app9').ok).toBe(true);
  });
});

const malformed: [string, unknown, RegExp?][] = [
  ['missing', undefined, /missing/],
  ['empty', '', /missing/],
  ['null', null, /missing/],
  ['a number', 42, /single string/],
  ['an array (sent twice)', ['dev-gcp:a:b', 'dev-gcp:a:c'], /single string/],
  ['an object', { aud: 'x' }, /single string/],
  ['a space inside', 'dev-gcp:my team:app', /white space/],
  ['a leading space', ' dev-gcp:a:b', /white space/],
  ['a trailing space', 'dev-gcp:a:b ', /white space/],
  ['a tab', 'dev-gcp:\ta:b', /control characters/],
  ['a newline', 'dev-gcp:a:b\n', /control characters/],
  ['a carriage return', 'dev-gcp:a\r:b', /control characters/],
  ['NUL', 'dev-gcp:a\u0000:b', /control characters/],
  ['DEL', 'dev-gcp:a\u007f:b', /control characters/],
  ['a C1 control', 'dev-gcp:a\u0085:b', /control characters/],
  ['a no-break space', 'dev-gcp:a\u00a0b:c', /white space/],
  ['upper case that is no name either', 'Dev_GCP:team:app', /the cluster "Dev_GCP" is not a valid name/],
  ['the Kelvin sign, which lowers to "k"', 'dev-gcp:team:\u212aapp', /app/],
  ['an underscore', 'dev-gcp:my_team:app', /namespace/],
  ['a unicode letter', 'dev-gcp:tëam:app', /namespace/],
  ['an emoji', 'dev-gcp:team:app🙂', /app/],
  ['only two parts', 'dev-gcp:app', /2 parts/],
  ['one part', 'my-app', /1 part/],
  ['four parts', 'dev-gcp:a:b:c', /4 parts/],
  ['four dotted parts', 'dev-gcp.a.b.c', /4 parts/],
  ['an empty part', 'dev-gcp::app', /namespace is empty/],
  ['an empty first part', ':team:app', /cluster is empty/],
  ['an empty last part', 'dev-gcp:team:', /app is empty/],
  ['a trailing colon', 'dev-gcp:team:app:', /its last ":" has nothing after it \(an empty part\): leave that ":" out/],
  ['a leading colon', ':dev-gcp:team:app', /its first ":" has nothing before it \(an empty part\)/],
  ['two colons in a row', 'dev-gcp::team:app', /it has an empty part \("::"\)/],
  ['a trailing dot', 'dev-gcp.team.app.', /its last "." has nothing after it/],
  ['a leading dash', '-dev:team:app', /cluster/],
  ['a trailing dash', 'dev-gcp:team-:app', /namespace/],
  ['a part of 64 characters', `dev-gcp:${'a'.repeat(64)}:app`, /64 characters/],
  ['more than 253 characters', `${'a'.repeat(63)}:${'b'.repeat(63)}:${'c'.repeat(63)}${'.d'.repeat(40)}`, /at most 253/],
  ['mixed separators', 'dev-gcp:team.app', /app/],
  ['a scope with another permission', 'api://dev-gcp.team.app/other', /scope must look like/],
  ['a scope with two parts', 'api://dev-gcp.app/.default', /2 parts/],
  ['a scope with colons', 'api://dev-gcp:team:app/.default', /1 part/],
  ['an https URL', 'https://dev-gcp.team.app/.default', /it is an address \(https:\/\/…\), not the name of an app/],
  ['an app\u2019s address', 'https://my-app.intern.dev.nav.no', /it is an address \(https:\/\/…\), not the name of an app/],
  ['an upper-case scheme with an upper-case address', 'HTTPS://my-app.intern.dev.nav.no', /it is an address \(HTTPS:\/\/…\)/],
  ['an upper-case scope with another permission', 'API://dev-gcp.team.app/other', /scope must look like/],
  ['a client id as scope, in any case', 'API://8f2b1c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d/.default', /1 part/],
  ['a lone scheme', 'api://', /part/],
  ['a path traversal', '../../etc:passwd:x', /cluster/],
  ['a query string', 'dev-gcp:team:app?x=1', /app/],
  ['HTML', 'dev-gcp:team:<script>', /app/],
  ['percent-encoding', 'dev-gcp%3Ateam%3Aapp', /part/],
  ['a slash', 'dev-gcp/team/app', /part/],
];

describe('malformed audiences', () => {
  it('has a table of at least 30 cases', () => {
    expect(malformed.length).toBeGreaterThanOrEqual(40);
  });

  it.each(malformed)('%s is refused with the expected form and an example', (_name, input, hint) => {
    const result = parseAudience(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain('<cluster>:<namespace>:<app>');
    expect(result.message).toContain('dev-gcp:my-team:my-app');
    if (hint) expect(result.message).toMatch(hint);
    // Control characters from the input are escaped, never echoed raw.
    // eslint-disable-next-line no-control-regex
    expect(result.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(result.message.length).toBeLessThan(600);
  });
});
