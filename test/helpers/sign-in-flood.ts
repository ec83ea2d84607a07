/**
 * A flood of sign-ins against the emulator, for the memory test and the memory benchmark: sign-in
 * posts with the largest group lists the form takes, each starting a sign-on session and issuing a
 * code never redeemed; and headless logins that redeem their code for tokens and a refresh token.
 */
import { randomUUID } from 'node:crypto';
import type { Emulator } from '../../packages/entra-emulator/src/index.js';
import { submitSignInForm, type SignInEmployee } from '../../packages/entra-emulator/src/sign-in-client.js';

export interface FloodClient {
  clientId: string;
  secret: string;
  redirectUri: string;
}

/** A confidential web client to flood with: a secret, a redirect URI, no PKCE. */
export function floodClient(emulator: Emulator, target = 'dev-gcp:bench:flood-web'): FloodClient {
  const client = { secret: 'flood-secret', redirectUri: 'http://localhost:3000/flood-callback' };
  return { ...client, clientId: emulator.registerClient({ target, secrets: [client.secret], redirectUris: [client.redirectUri] }) };
}

/** An employee typed into the form with 200 groups, the most it takes, each a new object id. */
function employee(i: number): SignInEmployee {
  return {
    navIdent: `M${String(i).padStart(6, '0')}`,
    name: `Flood Employee ${i}`,
    email: `flood.${i}@trygdeetaten.no`,
    groups: Array.from({ length: 200 }, () => randomUUID()).join(','),
  };
}

async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Signs employee `i` in on the emulator's page, as a browser of its own; the code sent back. */
async function signIn(emulator: Emulator, client: FloodClient, i: number): Promise<string> {
  const params = {
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: 'openid offline_access',
    state: `flood-${i}`,
  };
  const url = `${emulator.baseUrl}/${emulator.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams(params).toString()}`;
  const posted = await submitSignInForm(url, employee(i), { headers: { origin: emulator.baseUrl } });
  await posted.arrayBuffer();
  const code = posted.status === 302 ? new URL(posted.headers.get('location')!).searchParams.get('code') : null;
  if (!code) throw new Error(`the sign-in post answered ${posted.status}`);
  return code;
}

/** `count` sign-in posts (employees `offset`, `offset + 1`...), their codes left unredeemed. */
export async function signInFlood(emulator: Emulator, client: FloodClient, count: number, offset: number, concurrency = 8): Promise<void> {
  await inParallel(count, concurrency, async (i) => {
    await signIn(emulator, client, offset + i);
  });
}

/** `count` logins without a browser, each code redeemed for tokens and a refresh token the emulator keeps. */
export async function headlessLogins(
  emulator: Emulator,
  client: FloodClient,
  count: number,
  offset: number,
  concurrency = 8,
): Promise<void> {
  await inParallel(count, concurrency, async (i) => {
    const code = await signIn(emulator, client, offset + i);
    const params = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      client_secret: client.secret,
    };
    const res = await fetch(emulator.tokenEndpoint, { method: 'POST', body: new URLSearchParams(params) });
    const body = (await res.json()) as { refresh_token?: unknown };
    if (typeof body.refresh_token !== 'string') throw new Error(`the code's redemption answered ${res.status}`);
  });
}
