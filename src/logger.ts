/**
 * Structured JSON logs. Tokens, codes, secrets, assertions and keys never reach a log line:
 * the request serializer drops sensitive query parameters and headers, and the redaction list
 * covers the names under which secrets travel anywhere else.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

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

/**
 * For a person at a terminal: one short line per entry (time, level, component, message, the other
 * fields on the same line). Logs that go anywhere else stay JSON, one object per line.
 */
export function terminalDestination(output: NodeJS.WritableStream = process.stdout): pino.DestinationStream {
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
