import { parseArgs } from 'node:util';
import { migrateToLatest } from '../../db/migrate.ts';
import { parsing, type Command } from '../args.ts';

export const migrate: Command = {
  name: 'migrate',
  synopsis: '',
  summary: 'apply pending database migrations',
  // Opened without migrating, so the names applied here can be reported.
  migrate: false,
  parse(args) {
    parsing(() => parseArgs({ args, options: {} }));
    return async ({ runtime }) => {
      const { config } = runtime;
      const applied = await migrateToLatest(runtime.db, { serialiseOn: config.databaseUrl ? config.databaseSchema : undefined });
      return {
        json: { applied },
        text: applied.length ? `applied ${applied.length} migration(s):\n${applied.map((n) => `  ${n}`).join('\n')}` : 'the database is up to date',
      };
    };
  },
};
