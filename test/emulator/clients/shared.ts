/** What the client scripts share; they run as processes of their own, configured by their environment. */

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * Signs in on the emulator's page as a browser without script would: GET the authorize URL, post
 * its form (hidden fields, cookies and all) with an employee, and read the code from the redirect.
 */
export async function signIn(authorizeUrl: string, employee: Record<string, string>): Promise<string> {
  const page = await fetch(authorizeUrl, { redirect: 'manual' });
  if (page.status !== 200) throw new Error(`the authorize URL answered ${page.status}: ${page.headers.get('location') ?? ''}`);
  const html = await page.text();
  const decode = (value: string) => value.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(match[1]!, decode(match[2]!));
  for (const [key, value] of Object.entries(employee)) form.set(key, value);
  const action = decode(/<form method="post" action="([^"]+)">/.exec(html)![1]!);
  const cookies = page.headers.getSetCookie().map((cookie) => cookie.split(';')[0]!);
  const posted = await fetch(new URL(action, authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: new URL(authorizeUrl).origin, ...(cookies.length ? { cookie: cookies.join('; ') } : {}) },
    body: form,
  });
  const location = posted.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`no code: ${posted.status} ${location ?? (await posted.text()).slice(0, 300)}`);
  return code;
}
