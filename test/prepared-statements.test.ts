// Named prepared statements (server/db/prepared-statements.ts): the embedded mode's
// serving pool sends its frequent statements named, so PostgreSQL parses and plans
// them once per connection; a DATABASE_URL pool (maybe behind PgBouncer) never does.
import test from 'ava';
import type { Knex } from 'knex';
import { statementNamer } from '../server/db/prepared-statements.ts';
import { serverMode } from './helpers/environment.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;

test.before(async () => {
  server = await startTestServer();
});

test.after.always(async () => {
  await server?.stop();
});

test('a statement is named from its third sending on, by its text; one-offs and texts past the limit stay unnamed', (t) => {
  const name = statementNamer({ hotAfter: 3, maxNamed: 2, maxCounted: 100 });
  t.is(name('select 1'), undefined);
  t.is(name('select 1'), undefined);
  const first = name('select 1');
  t.regex(first ?? '', /^enot_[\w-]{24}$/);
  t.is(name('select 1'), first, 'the same text keeps its name');
  for (let i = 0; i < 3; i++) name('select 2');
  const second = name('select 2');
  t.truthy(second);
  t.not(second, first);
  // The limit of named texts is reached: a third hot text stays unnamed.
  for (let i = 0; i < 5; i++) t.is(name('select 3'), undefined);
  t.is(name('select 1'), first, 'the named ones keep their names');
});

test('the count of texts not yet named is bounded: past it, counting starts again', (t) => {
  const name = statementNamer({ hotAfter: 3, maxNamed: 10, maxCounted: 2 });
  name('a');
  name('a');
  name('b');
  name('c'); // a third counted text: the counts start again
  t.is(name('a'), undefined, 'a was forgotten, so this is its first sending again');
  t.is(name('a'), undefined);
  t.truthy(name('a'));
});

/** The statements prepared in one session of the pool, after sending `sql` four times in it. */
async function preparedAfterRepeats(db: Knex, sql: string): Promise<{ results: number[]; prepared: string[] }> {
  return db.transaction(async (trx) => {
    const results: number[] = [];
    for (let i = 0; i < 4; i++) results.push((await trx.raw<{ rows: { n: number }[] }>(sql, [i])).rows[0]!.n);
    const { rows } = await trx.raw<{ rows: { name: string; statement: string }[] }>('select name, statement from pg_prepared_statements');
    return { results, prepared: rows.filter((r) => r.statement === sql.replace('?', '$1')).map((r) => r.name) };
  });
}

test('the serving pool prepares frequent statements in embedded mode only, and they answer as unnamed ones do', async (t) => {
  const sql = 'select ?::int + 40 as n';
  const { results, prepared } = await preparedAfterRepeats(server.runtime.db, sql);
  t.deepEqual(results, [40, 41, 42, 43]);
  if (serverMode) t.deepEqual(prepared, [], 'DATABASE_URL: no named statements (PgBouncer in transaction pooling would lose them)');
  else t.is(prepared.length, 1, 'embedded: one named statement for the text');
});
