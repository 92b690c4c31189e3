import type { Knex } from 'knex';

// The operator at the command line (server/cli/) is an actor of its own: with
// DATABASE_URL, or with the embedded database not held by a server, the CLI
// runs the admin API's routes in its own process, with no token, and its audit
// records say so (actor_kind 'operator', actor_id the OS user name).
export async function up(db: Knex): Promise<void> {
  await db.raw('alter table audit_log drop constraint audit_log_actor_kind_check');
  await db.raw(`alter table audit_log add constraint audit_log_actor_kind_check check (actor_kind in ('account', 'client', 'operator', 'anonymous', 'system'))`);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`delete from audit_log where actor_kind = 'operator'`).catch(() => undefined);
  await db.raw('alter table audit_log drop constraint audit_log_actor_kind_check');
  await db.raw(`alter table audit_log add constraint audit_log_actor_kind_check check (actor_kind in ('account', 'client', 'anonymous', 'system'))`);
}
