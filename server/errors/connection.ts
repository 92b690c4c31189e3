// Recognises errors that mean "a backing store (PostgreSQL, Redis) is not
// reachable right now", as opposed to a bug: those become 503 (try again),
// not 500. Shapes come from node's net module, node-postgres, knex/tarn and ioredis.

// Socket-level codes (node), and PostgreSQL SQLSTATE class 08 (connection
// exception) and 57P01–57P03 (server shutting down or starting).
const CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED',
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03',
]);

// ioredis (MaxRetriesPerRequestError; offline queue disabled; closed
// connection), knex's pool (acquire timeout), node-postgres (lost connection).
const NAMES = new Set(['MaxRetriesPerRequestError', 'KnexTimeoutError']);
const MESSAGES = /Connection is closed|Stream isn't writeable|Connection terminated|connection error and is not queryable|Timeout acquiring a connection/;

export function isStorageUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && CODES.has(e.code)) return true;
  if (typeof e.name === 'string' && NAMES.has(e.name)) return true;
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isStorageUnavailable(inner, depth + 1))) return true;
  return isStorageUnavailable(e.cause, depth + 1);
}
