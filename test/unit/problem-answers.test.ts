/**
 * One error path: every problem code renders in each format from its rule in problem.ts. (That the
 * answers written outside the error handler are these renderers' output: test/e2e/error-answers.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { PROBLEM_CODES, type CodeRule, type Problem, type ProblemCode } from '../../src/generator/core/problem.js';
import {
  fixedAnswer,
  jsonBody,
  oauthBody,
  oauthRedirectQuery,
  oauthStatus,
  problemPage,
  textBody,
} from '../../src/generator/http/errors.js';

const CODES = Object.keys(PROBLEM_CODES) as ProblemCode[];
const problemOf = (code: ProblemCode): Problem => ({ code, message: `Refused as ${code}: the caller’s "fault".` });

describe('every problem code', () => {
  it.each(CODES)('%s renders as text, JSON, an HTML page, an OAuth body and an OAuth redirect', (code) => {
    const rule: CodeRule = PROBLEM_CODES[code];
    const p = problemOf(code);
    expect(textBody(p, 'c-1')).toBe(`${p.message}\ncorrelation id: c-1\n`);
    expect(jsonBody(p, 'c-1')).toEqual({
      error: code,
      error_description: p.message,
      retry: rule.retry,
      advice: rule.advice,
      correlation_id: 'c-1',
    });
    const oauth = oauthBody(p, 'c-1');
    expect(oauth).toMatchObject({
      error: rule.oauth,
      error_description: `Refused as ${code}: the caller's 'fault'.`,
      correlation_id: 'c-1',
    });
    expect(oauth.reason).toBe(rule.oauth === code ? undefined : code);
    expect(oauthStatus(p)).toBe(rule.oauthStatus ?? rule.status);
    expect(oauthRedirectQuery(p, 'c-1')).toEqual(oauth);
    const page = problemPage(p, { returnTo: '/', loginDomain: 'trygdeetaten.no', correlationId: 'c-1' });
    expect(page).toMatch(/<title>[^<]+<\/title>/);
    expect(page).toMatch(/<h1>[A-Z][^<]+<\/h1>/);
    expect(page).toContain('Refused as');
    expect(page).toContain('c-1');
    // The tenant is named once: by the message where the rule says it does, else by the page's note.
    expect(page.includes('class="tenant-note"')).toBe(!rule.namesTenant);
  });

  it('carry an identity provider code into the redirect form as the OAuth body has it', () => {
    const p: Problem = { code: 'identity_provider_refused', message: 'No.', aadsts: 50058 };
    expect(oauthRedirectQuery(p, 'c-2')).toMatchObject({
      error: 'server_error',
      reason: 'identity_provider_refused',
      error_codes: '50058',
    });
  });

  it('give the lines to copy in an OAuth body as the JSON body has them, and keep them out of a redirect', () => {
    const p: Problem = {
      code: 'not_authorized_by_target',
      message: 'Add this access policy:',
      snippet: 'spec:\n  accessPolicy: {}',
      snippetLine: 'spec: {accessPolicy: {}}',
      note: 'And let users in.',
    };
    const oauth = oauthBody(p, 'c-3');
    expect(oauth.error_description).toBe('Add this access policy: spec: {accessPolicy: {}} And let users in.');
    expect(oauth).toMatchObject({ message: p.message, details: jsonBody(p, 'c-3').details });
    expect(oauth.details).toBe('spec:\n  accessPolicy: {}\n\nAnd let users in.');
    expect(Object.keys(oauthRedirectQuery(p, 'c-3'))).not.toContain('details');
    expect(Object.keys(oauthRedirectQuery(p, 'c-3'))).not.toContain('message');
  });

  it('keep a fixed answer to the rule’s status, as text without a correlation id', () => {
    const answer = fixedAnswer(problemOf('unknown_host'));
    expect(answer.status).toBe(421);
    expect(answer.body).toBe(textBody(problemOf('unknown_host')));
    expect(answer.body).not.toContain('correlation id');
    expect(answer.headers).toMatchObject({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  });
});
