/**
 * Signing in on the emulator's page without a browser, as one would with it: GET the authorize URL,
 * post its form (hidden fields, login CSRF token and the browser's cookies) with a test employee,
 * and hand back the answer, a redirect to the client. For the generator's headless employee tokens,
 * scripts and tests; the page's markup stays the emulator's own fact.
 */

export interface SignInEmployee {
  navIdent: string;
  name: string;
  email: string;
  /** Group object ids, comma-separated. */
  groups: string;
}

const decode = (value: string) => value.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

export class SignInPageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SignInPageError';
  }
}

/** The answer to the sign-in form's post (a 302 to the client when it went well); throws SignInPageError when there was no form. */
export async function submitSignInForm(
  authorizeUrl: string,
  employee: SignInEmployee,
  init: { signal?: AbortSignal; headers?: Record<string, string> } = {},
) {
  const page = await fetch(authorizeUrl, { redirect: 'manual', ...init });
  const html = page.status === 200 ? await page.text() : '';
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  if (!action) throw new SignInPageError(page.status, `the authorize URL answered HTTP ${page.status} without a sign-in form`);
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(match[1]!, decode(match[2]!));
  for (const [key, value] of Object.entries(employee)) form.set(key, value);
  const cookies = page.headers.getSetCookie().map((cookie) => cookie.split(';')[0]!);
  const headers = { ...init.headers, ...(cookies.length ? { cookie: cookies.join('; ') } : {}) };
  return fetch(new URL(decode(action), authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers,
    ...(init.signal ? { signal: init.signal } : {}),
  });
}
