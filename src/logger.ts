/**
 * Structured JSON logs. Tokens, codes, secrets, assertions and keys never reach a log line:
 * the request serializer drops sensitive query parameters and headers, and the redaction list
 * covers the names under which secrets travel anywhere else.
 */
import { pino, type Logger } from 'pino';
import { createRequire } from 'node:module';
import type { default as Pretty } from 'pino-pretty';

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

/**
 * Query parameters whose values are codes, tokens or secrets, by the last word of their name, however the words are
 * joined (`_`, `-` or camel case): `code`, `user_code`, `state`, `session_state`, any `…token` (`csrf_token`,
 * `subject_token`, `accessToken`), `id_token_hint`, `client_secret`, `client_assertion`, `code_verifier`, `nonce`,
 * `password` (of a password grant some tool tries), an API key, a signature: whatever a client puts in a URL, be it a
 * parameter the generator reads or not.
 */
const SECRET_WORDS = ['code', 'state', 'token', 'hint', 'secret', 'assertion', 'verifier', 'nonce', 'password', 'pwd', 'key'];
const SECRET_ALONE = ['apikey', 'sig', 'signature', 'ticket'];
/** The word alone or after `_` or `-`, in any case; or after a lower-case letter or digit, capitalised (`accessToken`). */
const SENSITIVE_WORD = new RegExp(`(^|[_-])(${[...SECRET_WORDS, ...SECRET_ALONE].join('|')})$`, 'i');
const SENSITIVE_CAMEL = new RegExp(`[a-z0-9](${SECRET_WORDS.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('|')})$`);
const sensitive = (name: string) => SENSITIVE_WORD.test(name) || SENSITIVE_CAMEL.test(name);

/** How deep a URL inside a parameter inside a URL is looked into; deeper values are blanked whole. */
const NESTING = 3;

/** A query's parameters with the values of code- and token-carrying ones blanked, also in URLs nested in values. */
function redactQuery(query: string, depth: number): string {
  const params = new URLSearchParams(query);
  const kept: [string, string][] = [];
  for (const [key, value] of params) {
    if (sensitive(key)) kept.push([key, '[redacted]']);
    else kept.push([key, /[?#=%]/.test(value) ? redactNested(value, depth + 1) : value]);
  }
  return new URLSearchParams(kept).toString();
}

/**
 * A parameter's value that may itself be a URL or query (`redirect=/x?code=…`, encoded once or
 * more): redacted like the outer URL, decoded as far as it takes to see its parameters.
 */
function redactNested(value: string, depth: number): string {
  if (depth > NESTING) return '[redacted]';
  let current = value;
  for (let round = 0; round < NESTING; round++) {
    const split = current.search(/[?#]/);
    if (split !== -1) return `${current.slice(0, split + 1)}${redactQuery(current.slice(split + 1), depth)}`;
    if (current.includes('=')) return redactQuery(current, depth);
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (decoded === current) return current;
    current = decoded;
  }
  return value;
}

/** The URL without the values of parameters that carry codes or tokens, in its query or in URLs nested there. */
export function redactUrl(url: string): string {
  const index = url.search(/[?#]/);
  if (index === -1) return url;
  return `${url.slice(0, index + 1)}${redactQuery(url.slice(index + 1), 0)}`;
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

/**
 * For someone reading at a terminal: one short line per entry (time, level, component, message, the other
 * fields on the same line). Logs that go anywhere else stay JSON, one object per line.
 */
export function terminalDestination(output: NodeJS.WritableStream = process.stdout): pino.DestinationStream {
  // Loaded here: a process that logs JSON never needs it (about 0.05 s of a start).
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof Pretty;
  return pretty({
    destination: output,
    colorize: (output as NodeJS.WriteStream).isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,component',
    messageFormat: '{if component}{component}: {end}{msg}',
    singleLine: true,
    sync: true,
  });
}

/** The logger of a process that writes to standard output: readable in a terminal, JSON in a pipe or file. */
export function processLogger(level: string): Logger {
  return process.stdout.isTTY ? createLogger(level, terminalDestination()) : createLogger(level);
}

/** Where a logger writes (standard output, or the terminal's pretty-printer before it): its errors are the stream's. */
export function loggerOutput(logger: Logger): NodeJS.EventEmitter {
  return (logger as unknown as Record<symbol, NodeJS.EventEmitter>)[pino.symbols.streamSym]!;
}

type LogArgs = [obj: unknown, msg?: string, ...args: unknown[]];

/**
 * A child logger made on first use. Fastify gives each request one, but most requests never
 * write through it (their one line goes through the access logger), and making a pino child
 * runs the redaction over its bindings: the cached-token path spent about a tenth of its time
 * there. Methods live on the prototype, so a request costs one small object.
 */
class LazyChild {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly childBindings: pino.Bindings,
    private readonly options: pino.ChildLoggerOptions,
  ) {}

  private get real(): Logger {
    return (this.made ??= this.parent.child(this.childBindings, this.options));
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  /** What `fatal`, `error`, `warn`, `info`, `debug` and `trace` do (set on the prototype below). */
  write(level: pino.Level, args: LogArgs): void {
    if (this.isLevelEnabled(level)) (this.real[level] as (...a: LogArgs) => void)(...args);
  }

  silent(): void {}

  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger {
    return this.real.child(bindings, options);
  }

  bindings(): pino.Bindings {
    return this.real.bindings();
  }
}

for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) {
  Object.defineProperty(LazyChild.prototype, level, {
    value(this: LazyChild, ...args: LogArgs) {
      this.write(level, args);
    },
  });
}

export function lazyChild(parent: Logger, bindings: pino.Bindings, options: pino.ChildLoggerOptions = {}): Logger {
  return new LazyChild(parent, bindings, options) as unknown as Logger;
}
