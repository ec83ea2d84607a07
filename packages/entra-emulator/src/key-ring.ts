/**
 * The tenant's signing keys: the one that signs, and keys retired by a rotation, which stay in the
 * JWKS until every token they signed has expired (plus ten minutes), as Entra keeps an old key
 * published after it stops signing with it, but never more than a few (rotations in a row would
 * grow the JWKS without bound). Kept in the state folder when there is one.
 */
import {
  compactVerify,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type JWTVerifyResult,
} from 'jose';
import { z } from 'zod';
import type { ClaimOverrides } from './claim-overrides.js';
import { SigningKeys } from './keys.js';
import type { StateFolder } from './state.js';

const FILE = 'signing-keys.json';
const RETAINED_AFTER_EXPIRY_S = 600;
/** Keys published at most: the one that signs and the newest retired ones; rotations in a row push the oldest out early. */
const MAX_PUBLISHED = 3;

const Stored = z.object({
  keys: z.array(
    z.object({
      privateJwk: z.looseObject({ kty: z.literal('RSA'), n: z.string(), e: z.string(), d: z.string() }),
      certificate: z.string().min(1),
      retiredAt: z.number().optional(),
    }),
  ),
});

interface RingKey {
  keys: SigningKeys;
  /** Epoch seconds when it stopped signing. */
  retiredAt?: number;
}

export class KeyRing {
  private constructor(
    private ring: RingKey[],
    private readonly lifetimeSeconds: number,
    private readonly overrides: ClaimOverrides,
    private readonly state: StateFolder | undefined,
  ) {}

  /** The first key while it is being made. */
  private making: Promise<void> | undefined;

  /** The ring kept in the state folder, if there is one; without a key that signs, one is made when first needed (see ready). */
  static async open(options: { state?: StateFolder; lifetimeSeconds: number; overrides: ClaimOverrides }): Promise<KeyRing> {
    const stored = await options.state?.read(FILE, Stored);
    const ring: RingKey[] = [];
    for (const key of stored?.keys ?? []) {
      ring.push({
        keys: await SigningKeys.fromStored(key as { privateJwk: JWK; certificate: string }),
        ...(key.retiredAt ? { retiredAt: key.retiredAt } : {}),
      });
    }
    return new KeyRing(ring, options.lifetimeSeconds, options.overrides, options.state);
  }

  /**
   * Resolves once there is a key that signs: at once when one was read from the state folder, else
   * once one is made and kept. An RSA key and its certificate take longer than all the rest of a
   * start, so startEmulator() starts this once it listens, and what needs the key waits for it.
   */
  ready(): Promise<void> {
    if (this.signing) return Promise.resolve();
    this.making ??= SigningKeys.create().then(async (keys) => {
      this.ring.push({ keys });
      try {
        await this.save();
      } catch (err) {
        // Not kept, so not used: the next call tries again.
        this.ring.pop();
        this.making = undefined;
        throw err;
      }
    });
    return this.making;
  }

  /** Resolves when no key is being made any more, whether or not that worked. */
  async settled(): Promise<void> {
    await this.making?.catch(() => {});
  }

  private get signing(): SigningKeys | undefined {
    return this.ring.find((key) => key.retiredAt === undefined)?.keys;
  }

  /** The keys that verify tokens now: the current one and retired ones still within their time. */
  private published(): RingKey[] {
    const now = Math.floor(Date.now() / 1000);
    return this.ring.filter((key) => key.retiredAt === undefined || key.retiredAt + this.lifetimeSeconds + RETAINED_AFTER_EXPIRY_S > now);
  }

  async jwks(issuer: string): Promise<{ keys: JWK[] }> {
    await this.ready();
    return { keys: this.published().map((key) => key.keys.publishedJwk(issuer)) };
  }

  /** Signs with the current key, after the claim overrides tests asked for. */
  async sign(payload: JWTPayload): Promise<string> {
    const keys = this.signing ?? (await this.ready(), this.signing!);
    return keys.sign(this.overrides.apply(payload));
  }

  /** Verifies a token of this tenant with the published key its header names. */
  async verify(
    token: string,
    options: { issuer: string; audience?: string | string[]; currentDate?: Date; clockTolerance?: number; requiredClaims?: string[] },
  ): Promise<JWTVerifyResult> {
    await this.ready();
    const keys = this.keyFor(token);
    return jwtVerify(token, keys.publicKey, {
      algorithms: ['RS256'],
      issuer: options.issuer,
      ...(options.audience ? { audience: options.audience } : {}),
      ...(options.currentDate ? { currentDate: options.currentDate } : {}),
      ...(options.clockTolerance ? { clockTolerance: options.clockTolerance } : {}),
      ...(options.requiredClaims ? { requiredClaims: options.requiredClaims } : {}),
    });
  }

  /** The signature only, whatever the times (logout takes expired ID tokens). */
  async verifySignature(token: string): Promise<Uint8Array> {
    await this.ready();
    return (await compactVerify(token, this.keyFor(token).publicKey, { algorithms: ['RS256'] })).payload;
  }

  private keyFor(token: string): SigningKeys {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new joseErrors.JWSInvalid('the token is not a signed JWT');
    }
    const found = this.published().find((key) => key.keys.kid === kid);
    if (!found) throw new joseErrors.JWKSNoMatchingKey('no published key of this tenant has the kid of the token');
    return found.keys;
  }

  /** A new signing key; the old one stays published. Returns the new kid. */
  async rotate(): Promise<{ kid: string; retired: string }> {
    await this.ready();
    const retired = this.signing!;
    const fresh = await SigningKeys.create();
    const now = Math.floor(Date.now() / 1000);
    const kept = this.published().map((key) => (key.keys === retired ? { ...key, retiredAt: now } : key));
    this.ring = [...kept, { keys: fresh }].slice(-MAX_PUBLISHED);
    await this.save();
    return { kid: fresh.kid, retired: retired.kid };
  }

  private async save(): Promise<void> {
    if (!this.state) return;
    const keys = await Promise.all(
      this.published().map(async (key) => ({ ...(await key.keys.stored()), ...(key.retiredAt ? { retiredAt: key.retiredAt } : {}) })),
    );
    await this.state.write(FILE, { keys });
  }
}
