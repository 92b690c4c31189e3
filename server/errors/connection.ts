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
// data…"); a failed ready check after reconnecting. A Redis Cluster or Sentinel set
// in failover: the slot's primary is gone (CLUSTERDOWN, TRYAGAIN, redirections, a
// slots refresh that failed), a node still loading or demoted (LOADING, READONLY,
// MASTERDOWN), no Sentinel answering; a write its replicas did not confirm
// (adapters/redis-replicas.ts, REDIS_WAIT_REPLICAS).
const REDIS_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError', 'ReplicaWaitError']);
const REDIS_MESSAGES = /Connection is closed|Stream isn't writeable|Command timed out|Socket timeout|Ready check failed|^(CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN)\b|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready|Cluster is disconnect|All sentinels are unreachable/;

/** The store that is unreachable, when `err` (or an error it wraps) says one is; otherwise undefined. */
export function unavailableDependency(err: unknown, depth = 0): Dependency | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  if (err instanceof StorageConnectError) return err.dependency;
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

const SERVICES = {
  database: { service: 'PostgreSQL', variable: 'DATABASE_URL' },
  redis: { service: 'Redis', variable: 'REDIS_URL' },
} as const;

/** The URL with its passwords replaced by ***, fit for logs and messages (a Sentinel's too: server/redis/url.ts). */
export function withoutPassword(url: string): string {
  const hidden = url.replace(/(sentinel_password=)[^&#\s]*/i, '$1***');
  try {
    const parsed = new URL(hidden);
    if (!parsed.password) return hidden;
    parsed.password = '***';
    return parsed.href;
  } catch {
    // A list of hosts (redis+cluster://a:1,b:2) is no WHATWG URL.
    return hidden.replace(/(\/\/[^/:@\s]*:)[^@\s]*@/, '$1***@');
  }
}

/**
 * Opening a connection to PostgreSQL or Redis failed (issue 12 §5). The message names
 * the service, its URL with the password hidden, what went wrong in words, and the
 * variable to check, e.g. "Redis at redis://:***@cache:6379 is unreachable: connection
 * refused (ECONNREFUSED); check REDIS_URL and that Redis is running", where ioredis
 * alone says "Connection is closed.". The original error is the cause.
 */
export class StorageConnectError extends Error {
  readonly dependency: Dependency;
  constructor(dependency: Dependency, url: string, cause: unknown, connectMs?: number) {
    const { service, variable } = SERVICES[dependency];
    super(`${service} at ${withoutPassword(url)} ${reasonOf(cause, connectMs, variable, service)}`, { cause });
    this.name = 'StorageConnectError';
    this.dependency = dependency;
  }
}

function reasonOf(err: unknown, connectMs: number | undefined, variable: string, service: string): string {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; errors?: unknown };
  // node reports a name with several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError of each attempt.
  const first = Array.isArray(e.errors) && e.errors.length ? (e.errors[0] as typeof e) : e;
  const code = typeof e.code === 'string' ? e.code : typeof first.code === 'string' ? first.code : '';
  const message = typeof first.message === 'string' && first.message ? first.message : String(err);
  const running = `; check ${variable} and that ${service} is running and reachable from here`;
  const credentials = `; check the user name and password in ${variable}`;
  switch (code) {
    case 'ECONNREFUSED': return `is unreachable: connection refused (ECONNREFUSED)${running}`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `is unreachable: the host name does not resolve (${code})${running}`;
    case 'ETIMEDOUT': return `is unreachable: no answer${connectMs ? ` within ${connectMs} ms` : ''} (ETIMEDOUT)${running}`;
    case 'EHOSTUNREACH': case 'ENETUNREACH': return `is unreachable: no route to the host (${code})${running}`;
    case 'ECONNRESET': return `closed the connection at once (ECONNRESET)${running}; a TLS server needs rediss:// or sslmode`;
    // PostgreSQL: invalid password, invalid authorization (an unknown role); Redis: WRONGPASS, NOAUTH.
    case '28P01': case '28000': return `refused the sign-in: ${message} (${code})${credentials}`;
    case '3D000': return `has no such database: ${message} (3D000); create it, or name another in ${variable}`;
  }
  // PgBouncer refuses startup parameters it does not know (Enot ID sends its schema and deadlines as such).
  if (/unsupported startup parameter/.test(message)) return `refused a startup parameter: ${message}; behind PgBouncer list options, statement_timeout and idle_in_transaction_session_timeout in its ignore_startup_parameters and set them on the database role (docs/postgresql.md)`;
  if (/^(WRONGPASS|NOAUTH)/.test(message)) return `refused the sign-in: ${message}${credentials}`;
  if (/timeout|timed out/i.test(message)) return `is unreachable: no answer${connectMs ? ` within ${connectMs} ms` : ''} (${message})${running}`;
  return `could not be used: ${message}; check ${variable}`;
}
