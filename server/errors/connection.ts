// Recognises errors that mean "a backing store (PostgreSQL, Redis) is not
// reachable right now", as opposed to a bug: those become 503 (try again),
// not 500. Shapes come from node's net module, node-postgres, knex/tarn and ioredis.

/** Which store an error came from, named as /readyz names its checks. */
export type Dependency = 'database' | 'redis';

// Socket-level codes (node); the storage clients surface these only for PostgreSQL
// (ioredis reports its socket errors as events and fails the commands with its own errors).
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

// PostgreSQL SQLSTATE class 08 (connection exception), 57P01–57P03 (server
// shutting down or starting) and 57014 (statement cancelled: statement_timeout).
const SQLSTATES = new Set(['08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '57014']);

// knex's pool (acquire timeout); node-postgres: lost connection, connect deadline
// (connectionTimeoutMillis: "timeout expired", "Connection terminated due to
// connection timeout") and answer deadline (query_timeout: "Query read timeout").
const DATABASE_NAMES = new Set(['KnexTimeoutError']);
// knex puts the statement before the driver's message ("select … - Query read timeout").
const DATABASE_MESSAGES = /Connection terminated|connection error and is not queryable|Timeout acquiring a connection|Query read timeout|(?:^| - )timeout expired$/;

// ioredis: MaxRetriesPerRequestError; closed connection; offline queue disabled;
// commandTimeout ("Command timed out"); socketTimeout ("Socket timeout. Expecting
// data…"); a failed ready check after reconnecting.
const REDIS_NAMES = new Set(['MaxRetriesPerRequestError']);
const REDIS_MESSAGES = /Connection is closed|Stream isn't writeable|Command timed out|Socket timeout|Ready check failed/;

/** The store that is unreachable, when `err` (or an error it wraps) says one is; otherwise undefined. */
export function unavailableDependency(err: unknown, depth = 0): Dependency | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (REDIS_NAMES.has(name) || REDIS_MESSAGES.test(message)) return 'redis';
  if (SOCKET_CODES.has(code) || SQLSTATES.has(code) || DATABASE_NAMES.has(name) || DATABASE_MESSAGES.test(message)) return 'database';
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = unavailableDependency(inner, depth + 1);
      if (found) return found;
    }
  }
  return unavailableDependency(e.cause, depth + 1);
}

export function isStorageUnavailable(err: unknown): boolean {
  return unavailableDependency(err) !== undefined;
}
