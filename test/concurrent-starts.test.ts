// Several processes started at once on an empty database (issue 14 §4): each
// applies the migrations or waits for the one that does, and none fails. Four
// processes, twenty times, each time on a new empty schema; half run
// `enot-id migrate`, half a command that opens storage as the server does
// (server/runtime.ts migrates at start).
import test from 'ava';
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { run } from './helpers/process.ts';
import { serverMode } from './helpers/environment.ts';
import { migrations } from '../migrations/index.ts';

const ROUNDS = 20;
const PROCESSES = 4;
const serverOnly = serverMode ? test : test.skip;

serverOnly(`${PROCESSES} processes started at once on an empty schema never fail, ${ROUNDS} times over`, async (t) => {
  const url = process.env.DATABASE_URL!;
  const admin = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
  t.teardown(() => admin.destroy());
  for (let round = 0; round < ROUNDS; round++) {
    const schema = `t_starts_${randomBytes(5).toString('hex')}`;
    const env = { DATABASE_URL: url, DATABASE_SCHEMA: schema, DATA_DIR: '/nonexistent', LOG_LEVEL: 'silent' };
    try {
      const results = await Promise.all(
        Array.from({ length: PROCESSES }, (_, i) => run(['server/cli/main.ts', ...(i % 2 ? ['role', 'list'] : ['migrate']), '--json'], env, 120_000)),
      );
      for (const [i, result] of results.entries()) t.is(result.code, 0, `round ${round}, process ${i}: ${result.stderr}`);
      // Every migration applied exactly once, and knex's lock left in one row, unlocked.
      const applied = await admin.withSchema(schema).from('knex_migrations').pluck('name');
      t.deepEqual(applied, migrations.map(([name]) => name), `round ${round}`);
      t.deepEqual(await admin.withSchema(schema).from('knex_migrations_lock').select('is_locked'), [{ is_locked: 0 }], `round ${round}`);
      const reported = results.filter((_, i) => i % 2 === 0).map((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied.length);
      t.is(reported.filter((n) => n > 0).length <= 1, true, `round ${round}: at most one process applied them (${reported})`);
    } finally {
      await admin.raw('drop schema if exists ?? cascade', [schema]);
    }
  }
});
