import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Config, StorageTimeouts } from '../config/index.ts';
import { StorageConnectError } from '../errors/connection.ts';

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

/**
 * PostgreSQL when DATABASE_URL is set, otherwise PGlite (embedded PostgreSQL)
 * under DATA_DIR/pg: same SQL, same migrations.
 *
 * With `timeouts` (the server's request-serving pool) every connect, pool wait and
 * statement has a deadline, and failing it is "storage unavailable" (503). Without
 * them (migrations, the CLI, tests), statements may take as long as they need.
 * PGlite runs in the process, has no network to lose, and gets no deadlines.
 */
export async function connectDatabase(
  config: Pick<Config, 'databaseUrl' | 'databaseSchema' | 'dataDir'>,
  timeouts?: StorageTimeouts,
): Promise<Database> {
  if (config.databaseUrl) {
    const db = knexFactory({
      client: 'pg',
      connection: { connectionString: config.databaseUrl, ...(timeouts && deadlines(timeouts)) },
      searchPath: [config.databaseSchema],
      pool: { min: 0, max: 10, ...(timeouts && { validate: readyForQuery }) },
      acquireConnectionTimeout: timeouts?.connectMs ?? 10_000,
      // Error messages name the statement but not its values (tokens, codes, emails), so they can be logged.
      compileSqlOnError: false,
      log: quiet,
    });
    try {
      if (config.databaseSchema !== 'public') {
        await db.raw('create schema if not exists ??', [config.databaseSchema]);
      } else {
        await db.raw('select 1');
      }
    } catch (err) {
      await db.destroy().catch(() => {});
      throw new StorageConnectError('database', config.databaseUrl, err, timeouts?.connectMs);
    }
    return db;
  }

  const directory = path.resolve(config.dataDir, 'pg');
  mkdirSync(directory, { recursive: true });
  // Loaded only in embedded mode: a server on PostgreSQL never needs PGlite.
  const { default: ClientPgLite } = await import('knex-pglite');
  const db = knexFactory({
    client: ClientPgLite as unknown as typeof Knex.Client,
    dialect: 'postgres',
    connection: { filename: directory },
    compileSqlOnError: false,
    log: quiet,
  } as Knex.Config);
  await db.raw('select 1');
  return db;
}
