/**
 * decode: a token's header, claims and expiry, and whether its signature verifies. "valid" is said
 * only for a token of the generator's identity provider, checked with the keys the generator names:
 * anyone can publish keys for an issuer they make up.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { durationInWords } from '../../duration.js';
import type { Invocation } from '../args.js';
import type { Context } from '../context.js';
import { CliError, NAME } from '../errors.js';
import { trustedIssuer, type TrustedIssuer } from '../generator.js';

export const help = `Usage: ${NAME} decode [<token>] [--url URL]

Shows the token's header and claims (the token is read from standard input when not given), when it
expires, and whether its signature verifies: "valid" only for a token of the token generator's identity
provider (asked at --url); for any other issuer, which keys it matched and that they were not trusted.
Exits with 1 when the signature does not verify.`;

export function expiryInWords(exp: number | undefined, now = Date.now()): string {
  if (typeof exp !== 'number') return 'never expires (no exp claim)';
  const seconds = Math.round(exp - now / 1000);
  return seconds >= 0 ? `expires in ${durationInWords(seconds)}` : `expired ${durationInWords(-seconds)} ago`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The JWKS URI that the token's own issuer publishes; its say-so is all there is to it. */
async function selfNamedKeys(iss: string): Promise<string> {
  const discovery = await fetch(`${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
  const jwksUri = ((await discovery.json()) as { jwks_uri?: unknown }).jwks_uri;
  if (typeof jwksUri !== 'string') throw new Error('no jwks_uri');
  return jwksUri;
}

function untrusted(iss: string, jwksUri: string, trusted: TrustedIssuer | string): string {
  const which =
    typeof trusted === 'string'
      ? `the token generator's identity provider is unknown: ${trusted}`
      : `the token generator's is ${trusted.issuer}`;
  return (
    `Signature: matches keys that ${iss}, the issuer the token names itself, publishes at ${jwksUri}; not checked against a ` +
    `trusted issuer (${which})\n`
  );
}

async function checkSignature(ctx: Context, token: string, iss: string): Promise<number> {
  const trusted = await trustedIssuer(ctx);
  const ours = typeof trusted !== 'string' && trusted.issuer === iss;
  let jwksUri: string;
  if (ours) jwksUri = trusted.jwksUri;
  else {
    try {
      jwksUri = await selfNamedKeys(iss);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      ctx.out.write(`Signature: not checked: the issuer's keys could not be fetched (${reason})\n`);
      return 0;
    }
  }
  try {
    await jwtVerify(token, createRemoteJWKSet(new URL(jwksUri)), { issuer: iss });
  } catch (err) {
    ctx.out.write(`Signature: NOT valid (${err instanceof Error ? err.message : String(err)})\n`);
    return 1;
  }
  ctx.out.write(
    ours
      ? `Signature: valid (issued by ${iss}, the token generator's identity provider; keys from ${jwksUri})\n`
      : untrusted(iss, jwksUri, trusted),
  );
  return 0;
}

export async function run({ rest }: Invocation, ctx: Context): Promise<number> {
  // At a terminal, standard input is the keyboard: reading it waited, silent, for a token nobody was told to type.
  if (rest[0] === undefined && process.stdin.isTTY)
    throw new CliError(`give a token as argument or on standard input, such as ${NAME} decode "$TOKEN"`, 2);
  const token = (rest[0] ?? (await readStdin())).trim();
  if (!token) throw new CliError('give a token as argument or on standard input', 2);
  let header;
  let claims;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw new CliError('that is not a JWT: a token has three parts separated by "."');
  }
  ctx.out.write(`Header:\n${JSON.stringify(header, null, 2)}\nClaims:\n${JSON.stringify(claims, null, 2)}\n`);
  ctx.out.write(`Expiry: ${expiryInWords(claims.exp)}\n`);
  if (typeof claims.iss !== 'string') {
    ctx.out.write('Signature: not checked (the token names no issuer)\n');
    return 0;
  }
  return checkSignature(ctx, token, claims.iss);
}
