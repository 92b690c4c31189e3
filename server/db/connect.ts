import knexFactory, { type Knex } from 'knex';
import type { Config, StorageTimeouts } from '../config/index.ts';
import { StorageConnectError } from '../errors/connection.ts';
import { openEmbeddedStorage } from './embedded-storage.ts';
import { preparingPostgresClient } from './prepared-statements.ts';

export type Database = Knex;

// knex prints connection failures as multi-line stacks on the console; the
// caller reports errors itself, in one line.
const quiet = { warn() {}, error() {}, deprecate() {}, debug() {} };

// How much longer than PostgreSQL's own statement_timeout the client waits: a slow
// statement is then cancelled by the server, which answers, and the connection stays
// usable; only when no answer comes at all (a partition) does the client give up.
const CANCEL_GRACE_MS = 500;

// A transaction left idle this many statement timeouts is ended by PostgreSQL,
// releasing its locks: a client cut off mid-transaction by a partition never says
// ROLLBACK, and the server would otherwise notice only when TCP gives up.
const IDLE_IN_TRANSACTION_FACTOR = 5;

/**
 * node-postgres connection settings with deadlines (docs/reliability.md):
 * connecting (connectionTimeoutMillis), each statement on the server
 * (statement_timeout) and each answer on the client (query_timeout).
 */
function deadlines(timeouts: StorageTimeouts) {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.commandMs,
    query_timeout: timeouts.commandMs + CANCEL_GRACE_MS,
    idle_in_transaction_session_timeout: timeouts.commandMs * IDLE_IN_TRANSACTION_FACTOR,
  };
}

/**
 * A pooled connection whose last statement timed out on the client is still waiting
 * for that answer (node-postgres keeps it as the active query), and every later
 * statement would queue behind it; when the answer never comes (the server or the
 * path to it is gone) the connection is dead for good. Such a connection is not
 * handed out again: the pool closes it and opens a new one.
 */
function readyForQuery(connection: { readyForQuery?: boolean }): boolean {
  return connection.readyForQuery === true;
}

export interface OpenDatabase {
  db: Database;
  /** Closes the pool, then stops the embedded server if this opened it. */
  close(): Promise<void>;
}

/**
 * PostgreSQL at DATABASE_URL, or (unset) the embedded PostgreSQL under DATA_DIR
 * (./embedded-postgres.ts): the same driver, pool and SQL either way. For the CLI's
 * helpers and tests; openRuntime() starts the embedded server itself, to open two
 * pools (migrations, serving) on one server.
 */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'databaseSchema' | 'dataDir'> & Partial<Pick<Config, 'databasePoolMax'>>): Promise<OpenDatabase> {
  if (config.databaseUrl) {
    const db = await connectPostgres({ ...config, databaseUrl: config.databaseUrl });
    return { db, close: () => db.destroy() };
  }
  const embedded = await openEmbeddedStorage(config.dataDir);
  try {
    const db = await connectPostgres({ ...config, databaseUrl: embedded.url });
    return {
      db,
      async close() {
        await db.destroy();
        await embedded.stop();
      },
    };
  } catch (err) {
    await embedded.stop().catch(() => {});
    throw err;
  }
}

/**
 * A pool on the PostgreSQL at `config.databaseUrl` (DATABASE_URL, or the embedded
 * server's URL).
 *
 * With `timeouts` (the server's request-serving pool) every connect, pool wait and
 * statement has a deadline, and failing it is "storage unavailable" (503). Without
 * them (migrations, the CLI, tests), statements may take as long as they need.
 */
export async function connectDatabase(config: DatabaseSettings, timeouts?: StorageTimeouts): Promise<Database> {
  return connectPostgres(config, timeouts);
}

export interface DatabaseSettings {
  databaseUrl: string;
  databaseSchema: string;
  /** Connections this pool opens at most (DATABASE_POOL_MAX); DEFAULT_POOL_MAX when unset. */
  databasePoolMax?: number;
  /** Frequent statements as named prepared statements: only on a server this process owns (./prepared-statements.ts). */
  preparedStatements?: boolean;
}

/** knex's own default, kept when DATABASE_POOL_MAX is unset. */
export const DEFAULT_POOL_MAX = 10;

/**
 * The schema as a startup parameter (`options=-c search_path=…`), not knex's
 * `searchPath` (a `SET search_path` on each new connection): a SET is session state,
 * and behind PgBouncer in transaction pooling mode it lands on whichever server
 * connection ran it, for whichever client comes next, while this client's next
 * statement may run on a server connection that never saw it (docs/postgresql.md).
 * PostgreSQL applies a startup parameter to the whole session; PgBouncer refuses it
 * unless told to drop it (ignore_startup_parameters), and then the role's own
 * search_path applies, which sessionCheck() verifies.
 */
export function startupOptions(schema: string): string {
  return `-c search_path="${schema.replaceAll('"', '""')}"`;
}

/**
 * What a session of this pool must have once connected: DATABASE_SCHEMA as its
 * current schema, and (with deadlines) a statement_timeout. Both were asked for as
 * startup parameters; a pooler that drops them (PgBouncer's ignore_startup_parameters)
 * hands out sessions with the role's settings instead, the same for every server
 * connection, so one session tells. Without this check such a pool would read and
 * write another schema's tables (or none), and run statements without a deadline.
 */
async function sessionCheck(db: Knex, schema: string, timeouts?: StorageTimeouts): Promise<void> {
  const { rows } = await db.raw<{ rows: { schema: string | null; statement_timeout: string }[] }>(
    "select current_schema() as schema, current_setting('statement_timeout') as statement_timeout",
  );
  const session = rows[0]!;
  const advice = 'behind PgBouncer (or another pooler that drops startup parameters) set it on the database role, see docs/postgresql.md';
  if (session.schema !== schema) {
    throw new Error(`sessions start in schema ${session.schema ?? '(none)'}, not DATABASE_SCHEMA ${schema}: the search_path asked for was not applied; ${advice}: alter role … set search_path to ${schema}`);
  }
  if (timeouts && session.statement_timeout === '0') {
    throw new Error(`sessions have no statement_timeout (asked for ${timeouts.commandMs} ms): it was not applied; ${advice}: alter role … set statement_timeout to '${timeouts.commandMs}ms'`);
  }
}

async function connectPostgres(config: DatabaseSettings, timeouts?: StorageTimeouts): Promise<Database> {
  const { databaseUrl: url, databaseSchema: schema } = config;
  const db = knexFactory({
    client: config.preparedStatements ? (preparingPostgresClient() as Knex.Config['client']) : 'pg',
    connection: { connectionString: url, options: startupOptions(schema), ...(timeouts && deadlines(timeouts)) },
    pool: { min: 0, max: config.databasePoolMax ?? DEFAULT_POOL_MAX, ...(timeouts && { validate: readyForQuery }) },
    acquireConnectionTimeout: timeouts?.connectMs ?? 10_000,
    // Error messages name the statement but not its values (tokens, codes, emails), so they can be logged.
    compileSqlOnError: false,
    log: quiet,
  });
  try {
    if (schema !== 'public') {
      // "if not exists" is not atomic: two processes starting at once on an empty
      // database can both pass the check and one fails on pg_namespace's unique
      // index. A transaction-level advisory lock serialises them (and, unlike a
      // session lock, works through PgBouncer's transaction pooling).
      await db.transaction(async (tx) => {
        await tx.raw('select pg_advisory_xact_lock(hashtext(?), hashtext(?))', ['enot-id:schema', schema]);
        await tx.raw('create schema if not exists ??', [schema]);
      });
    }
    await sessionCheck(db, schema, timeouts);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw new StorageConnectError('database', url, err, timeouts?.connectMs);
  }
  return db;
}
