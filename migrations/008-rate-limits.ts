import type { Knex } from 'knex';

// Counters of rate-limiter-flexible's Postgres store (server/rate-limit/limiters.ts)
// when there is no Redis. The columns are exactly the library's own
// (RateLimiterPostgres#_getCreateTableStmt): it reads and writes them with its
// own SQL. Created here, not by the library at run time, so it lands in the
// schema of DATABASE_SCHEMA and under knex's migration lock.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table rate_limits (
      key varchar(255) primary key,
      points integer not null default 0,
      expire bigint
    )`);
  await db.raw('create index rate_limits_expire on rate_limits (expire)');
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('rate_limits');
}
