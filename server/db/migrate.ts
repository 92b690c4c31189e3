import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.ts';

const source: Knex.MigrationSource<readonly [string, Knex.Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

/**
 * Applies pending migrations; returns the names it applied.
 *
 * With `serialiseOn` (a schema name: several processes may start at once) the work waits for a transaction-level advisory lock on that schema,
 * held on a connection of its own. knex's own lock table is not enough on an empty
 * database: two processes both create knex_migrations_lock (one fails with "already
 * exists") or both insert its row (and every later start then fails with "Migration
 * table is already locked"). A transaction-level lock also works through PgBouncer's
 * transaction pooling, where a session lock would not (issue 14 §4). The embedded
 * PostgreSQL is a real one: the same lock applies there.
 */
export async function migrateToLatest(db: Knex, options: { serialiseOn?: string } = {}): Promise<string[]> {
  const latest = async () => {
    const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
    return applied;
  };
  const schema = options.serialiseOn;
  if (schema === undefined) return latest();
  return db.transaction(async (lock) => {
    await lock.raw('select pg_advisory_xact_lock(hashtext(?), hashtext(?))', ['enot-id:migrations', schema]);
    return latest();
  });
}
