/**
 * Signing in on the emulator's page without a browser, as one would with it: GET the authorize URL,
 * post its form (hidden fields, login CSRF token and the browser's cookies) with a test employee,
 * and hand back the answer, a redirect to the client; and the same on the device login page. For the generator's headless employee tokens,
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

/** The hidden fields of a page's form, as its post carries them. */
const hiddenFields = (html: string): Record<string, string> =>
  Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decode(m[2]!)]));

const cookiesOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0]!)
    .join('; ');

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
  const form = new URLSearchParams({ ...hiddenFields(html), ...employee });
  const cookie = cookiesOf(page);
  const headers = { ...init.headers, ...(cookie ? { cookie } : {}) };
  return fetch(new URL(decode(action), authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers,
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

/**
 * Hands the sign-in form's answer to the client as a browser does: follows a redirect, or posts the page a `form_post`
 * response mode answers with (as MSAL's `acquireTokenInteractive` asks for) to the client's redirect URI.
 */
export async function deliverToClient(answer: Response): Promise<Response> {
  const location = answer.headers.get('location');
  if (location) return fetch(location);
  const html = await answer.text();
  const action = /<form id="form-post" method="post" action="([^"]+)">/.exec(html)?.[1];
  if (!action)
    throw new SignInPageError(answer.status, `the sign-in answered HTTP ${answer.status} with neither a redirect nor a form to post`);
  return fetch(decode(action), { method: 'POST', body: new URLSearchParams(hiddenFields(html)) });
}

/**
 * The employee's part of the device code flow, as a browser without script does it: open the device login page, enter the
 * device's code, then sign in as `employee` (or decline). The last page's text; throws when the code was not taken.
 */
export async function enterDeviceCode(
  verificationUri: string,
  userCode: string,
  employee: SignInEmployee,
  action: 'approve' | 'decline' = 'approve',
): Promise<string> {
  const page = await fetch(verificationUri);
  const headers = { cookie: cookiesOf(page), origin: new URL(verificationUri).origin };
  const post = (form: Record<string, string>) =>
    fetch(verificationUri, { method: 'POST', headers, body: new URLSearchParams(form) }).then((res) => res.text());
  const signInPage = await post({ ...hiddenFields(await page.text()), user_code: userCode });
  if (!signInPage.includes('value="approve"')) throw new SignInPageError(400, `the code was not taken: ${signInPage.slice(0, 300)}`);
  return post({ ...hiddenFields(signInPage), ...employee, action });
}
