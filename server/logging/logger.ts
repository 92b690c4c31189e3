import { pino, type DestinationStream, type Logger } from 'pino';
import { outageLog, OUTAGE_WINDOW_MS } from './outage-log.ts';

export type { Logger };

// Secrets never reach the log: headers that carry credentials are censored,
// and no request or response body is logged anywhere.
const redact = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'res.headers["set-cookie"]',
    '*.password',
    '*.client_secret',
    '*.token',
    '*.code',
  ],
  censor: '[redacted]',
};

// Nor through errors: drivers hang the data a failed operation was about on the
// error — some drivers the statement's parameters (`params`), PostgreSQL a row's values
// (`detail`, `where`), ioredis a command's arguments (`command`) — tokens, codes,
// emails. Of an error only what it is and where it happened is logged; knex's
// messages name the statement without its values (server/db/connect.ts).
const ERROR_FIELDS = ['code', 'errno', 'syscall', 'severity'] as const;

function safeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { type: err.constructor?.name ?? err.name, message: err.message, stack: err.stack };
  const fields = err as unknown as Record<string, unknown>;
  for (const key of ERROR_FIELDS) {
    if (typeof fields[key] === 'string' || typeof fields[key] === 'number') out[key] = fields[key];
  }
  if (depth < 3) {
    if (err.cause !== undefined) out.cause = safeError(err.cause, depth + 1);
    if (err instanceof AggregateError) out.errors = err.errors.slice(0, 5).map((inner) => safeError(inner, depth + 1));
  }
  return out;
}

export function createLogger(level: string, options: { destination?: DestinationStream; outageWindowMs?: number } = {}): Logger {
  // Storage outages: at warn, one line per store per window (./outage-log.ts).
  const outage = outageLog(options.outageWindowMs ?? OUTAGE_WINDOW_MS);
  const settings = {
    level,
    redact,
    base: { service: 'enot-id' },
    serializers: { err: safeError },
    hooks: {
      logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...args: unknown[]) => void, levelValue: number) {
        if (!outage.take(this, args, levelValue)) method.apply(this, args);
      },
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
