/**
 * Structured JSON logs. Tokens, codes, secrets, assertions and keys never reach a log line:
 * the request serializer drops sensitive query parameters and headers, and the redaction list
 * covers the names under which secrets travel anywhere else.
 */
import { pino, type Logger } from 'pino';

const SECRET_NAMES = [
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'id_token',
  'idToken',
  'client_secret',
  'clientSecret',
  'client_assertion',
  'assertion',
  'code_verifier',
  'codeVerifier',
  'password',
  'secret',
  'token',
  'ticket',
  'jwk',
  'privateKey',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...SECRET_NAMES,
  ...SECRET_NAMES.map((name) => `*.${name}`),
];

const SENSITIVE_QUERY = /^(code|state|session_state|id_token_hint|id_token|access_token|token|assertion|client_secret|nonce)$/i;

/** The URL without the values of parameters that carry codes or tokens. */
export function redactUrl(url: string): string {
  const index = url.indexOf('?');
  if (index === -1) return url;
  const params = new URLSearchParams(url.slice(index + 1));
  for (const key of [...params.keys()]) {
    if (SENSITIVE_QUERY.test(key)) params.set(key, '[redacted]');
  }
  return `${url.slice(0, index)}?${params.toString()}`;
}

interface SerializableRequest {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  ip?: string;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: SerializableRequest) => ({
        id: req.id,
        method: req.method,
        url: req.url ? redactUrl(req.url) : undefined,
        userAgent: req.headers?.['user-agent'],
      }),
      err: pino.stdSerializers.err,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
