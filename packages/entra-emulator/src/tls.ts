/**
 * HTTPS for the emulator: a local certificate authority and a certificate for localhost made at
 * start (the authority's certificate is written to a file, for NODE_EXTRA_CA_CERTS and browsers),
 * or a certificate and key that are given.
 */
import { webcrypto } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StateFolder } from './state.js';

/**
 * A given certificate, or one made at start by a local CA. The CA is kept in the state folder when
 * there is one (the same CA on every start, so that trust in it lasts), else made in a folder of
 * its own; `caFile` says where else to write its certificate.
 */
export type TlsOptions = { certFile: string; keyFile: string } | { selfSigned: { caFile?: string } };

const CA_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca-key.pem';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where the authority's certificate was written, for a made one. */
  caFile?: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${base64}${base64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/** The certificate library, with the reflect polyfill it needs and Node's WebCrypto as its provider. */
export async function loadX509() {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  return x509;
}

type X509 = Awaited<ReturnType<typeof loadX509>>;

/** The CA kept in the state folder, or undefined when there is none yet. */
async function storedCa(x509: X509, state: StateFolder) {
  let certificate: string;
  let key: string;
  try {
    [certificate, key] = await Promise.all([readFile(state.file(CA_FILE), 'utf8'), readFile(state.file(CA_KEY_FILE), 'utf8')]);
  } catch {
    return undefined;
  }
  const ca = new x509.X509Certificate(certificate);
  const der = Buffer.from(key.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign']);
  const publicKey = await ca.publicKey.export(ALGORITHM, ['verify']);
  if (ca.notAfter.getTime() < Date.now() + 86_400_000) return undefined;
  return { ca, caKeys: { privateKey, publicKey } as webcrypto.CryptoKeyPair };
}

async function newCa(x509: X509) {
  const crypto = webcrypto;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 365 * 24 * 3_600_000);
  const caKeys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Entra ID emulator local CA',
    notBefore,
    notAfter,
    keys: caKeys as never,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as never),
    ],
  });
  return { ca, caKeys };
}

/** The CA of the state folder, made and kept there the first time. */
async function caOf(x509: X509, state: StateFolder | undefined) {
  const kept = state ? await storedCa(x509, state) : undefined;
  if (kept) return kept;
  const made = await newCa(x509);
  if (state) {
    await state.writeText(CA_KEY_FILE, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', made.caKeys.privateKey)));
    await state.writeText(CA_FILE, `${made.ca.toString('pem').trimEnd()}\n`, 0o644);
  }
  return made;
}

/**
 * The file of the state folder's CA certificate, the CA made first when there is none: for a client to trust before the emulator
 * starts.
 */
export async function ensureStateCa(state: StateFolder): Promise<string> {
  await caOf(await loadX509(), state);
  return state.file(CA_FILE);
}

export async function makeCertificates(options: { caFile?: string }, state: StateFolder | undefined): Promise<TlsMaterial> {
  const x509 = await loadX509();
  const crypto = webcrypto;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 365 * 24 * 3_600_000);
  const { ca, caKeys } = await caOf(x509, state);
  const serverKeys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const server = await x509.X509CertificateGenerator.create({
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey as never,
    signingKey: caKeys.privateKey as never,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as never),
    ],
  });
  // Ends with a newline, so that it can be appended to a bundle of certificates.
  const caPem = `${ca.toString('pem').trimEnd()}\n`;
  const caFile = options.caFile ?? (state ? state.file(CA_FILE) : join(await mkdtemp(join(tmpdir(), 'entra-emulator-')), CA_FILE));
  if (caFile !== state?.file(CA_FILE)) await writeFile(caFile, caPem, { mode: 0o644 });
  return {
    cert: server.toString('pem'),
    key: pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', serverKeys.privateKey)),
    caFile,
  };
}

export async function tlsMaterial(options: TlsOptions, state?: StateFolder): Promise<TlsMaterial> {
  if ('selfSigned' in options) return makeCertificates(options.selfSigned, state);
  try {
    return { cert: await readFile(options.certFile, 'utf8'), key: await readFile(options.keyFile, 'utf8') };
  } catch (err) {
    throw new Error(
      `EMULATOR_TLS_CERT / EMULATOR_TLS_KEY: cannot read the certificate or key (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  }
}
