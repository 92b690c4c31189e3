import type { Knex } from 'knex';
import { migrations } from '../../migrations/index.ts';

const source: Knex.MigrationSource<readonly [string, Knex.Migration]> = {
  getMigrations: async () => [...migrations],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

/** Applies pending migrations; returns the names it applied. knex's lock table serialises concurrent starts. */
export async function migrateToLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
  return applied;
}
