import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Config } from '../config/index.ts';

export type Database = Knex;

// knex prints connection failures as multi-line stacks on the console; the
// caller reports errors itself, in one line.
const quiet = { warn() {}, error() {}, deprecate() {}, debug() {} };

/**
 * PostgreSQL when DATABASE_URL is set, otherwise PGlite (embedded PostgreSQL)
 * under DATA_DIR/pg: same SQL, same migrations.
 */
export async function connectDatabase(config: Pick<Config, 'databaseUrl' | 'databaseSchema' | 'dataDir'>): Promise<Database> {
  if (config.databaseUrl) {
    const db = knexFactory({
      client: 'pg',
      connection: config.databaseUrl,
      searchPath: [config.databaseSchema],
      pool: { min: 0, max: 10 },
      acquireConnectionTimeout: 10_000,
      log: quiet,
    });
    if (config.databaseSchema !== 'public') {
      await db.raw('create schema if not exists ??', [config.databaseSchema]);
    } else {
      await db.raw('select 1');
    }
    return db;
  }

  const directory = path.resolve(config.dataDir, 'pg');
  mkdirSync(directory, { recursive: true });
  const db = knexFactory({
    client: ClientPgLite as unknown as typeof Knex.Client,
    dialect: 'postgres',
    connection: { filename: directory },
    log: quiet,
  } as Knex.Config);
  await db.raw('select 1');
  return db;
}
