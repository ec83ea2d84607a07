/**
 * A tool's side of the generator's authorization server, for tests: its loopback listener, the
 * consent page read and answered without a browser, and raw token requests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testClock } from './clock.js';

/** A tool's loopback listener (RFC 8252): each browser visit to /callback is handed to the test. */
export async function startLoopback(
  host: '127.0.0.1' | '::1' = '127.0.0.1',
): Promise<{ server: Server; redirectUri: string; next(): Promise<URL> }> {
  const waiting: ((url: URL) => void)[] = [];
  const origin = () => `http://${host === '::1' ? '[::1]' : host}:${(server.address() as AddressInfo).port}`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('back in the tool');
    waiting.shift()?.(new URL(req.url ?? '/', origin()));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    server,
    redirectUri: `${origin()}/callback`,
    next: () => new Promise<URL>((resolve) => waiting.push(resolve)),
  };
}

/** The CSRF token of the consent page at `url`, shown to the browser session `cookie`. */
export async function consentToken(cookie: string, url: string): Promise<string> {
  const res = await fetch(url, { headers: { cookie }, redirect: 'manual' });
  const token = /name="csrf_token" value="([^"]+)"/.exec(await res.text())?.[1];
  if (res.status !== 200 || !token) throw new Error(`no consent page at ${url}: ${res.status}`);
  return token;
}

/** The consent page's answer, as its form posts it. */
export function decide(
  cookie: string,
  url: string,
  csrfToken: string | undefined,
  decision = 'allow',
  headers: Record<string, string> = {},
  fields: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { cookie, ...headers },
    body: new URLSearchParams({ ...(csrfToken ? { csrf_token: csrfToken } : {}), decision, ...fields }),
    redirect: 'manual',
  });
}

/**
 * The device page's Allow as an employee gives it: the page read, the code typed as the device shows it, a moment later (by
 * test/helpers/clock.ts, which the test file installs before its service starts).
 */
export async function approveDevice(cookie: string, base: string, userCode: string, typed = userCode): Promise<Response> {
  const token = await consentToken(cookie, `${base}/oauth2/device?user_code=${userCode}`);
  testClock().advance(1_100);
  return decide(cookie, `${base}/oauth2/device`, token, 'allow', {}, { typed_code: typed });
}

export function tokenRequest(base: string, params: Record<string, string>): Promise<Response> {
  return fetch(`${base}/oauth2/token`, { method: 'POST', body: new URLSearchParams(params) });
}

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceAnswer {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** The client_id the helpers' device authorizations are started with, and polled with. */
export const DEVICE_CLIENT = 'k6 in a container';

export async function deviceAuthorization(base: string, userAgent = 'my-device-tool/1.0'): Promise<DeviceAnswer> {
  const res = await fetch(`${base}/oauth2/device_authorization`, {
    method: 'POST',
    headers: { 'user-agent': userAgent },
    body: new URLSearchParams({ client_id: DEVICE_CLIENT, scope: 'api://dev-gcp.my-team.my-app/.default' }),
  });
  if (res.status !== 200) throw new Error(`device authorization failed: ${res.status}`);
  return (await res.json()) as DeviceAnswer;
}

export async function poll(
  base: string,
  deviceCode: string,
  client = DEVICE_CLIENT,
): Promise<{ status: number; body: { error?: string; access_token?: string; refresh_token?: string } }> {
  const res = await tokenRequest(base, { grant_type: DEVICE_CODE_GRANT, client_id: client, device_code: deviceCode });
  return { status: res.status, body: (await res.json()) as { error?: string; access_token?: string; refresh_token?: string } };
}
