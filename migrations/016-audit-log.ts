import type { Knex } from 'knex';

// The audit log (issue 11 §3; ASVS 7.1, 7.2): who did what to whom, from where,
// and how it ended. Append-only: rows are inserted by server/audit/ and deleted
// only by the retention purge (AUDIT_RETENTION_DAYS); an UPDATE is refused by a
// trigger so no code path can rewrite history (ASVS 7.3.3).
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    // 'account' | 'client' | 'anonymous' (a refused call without a usable token).
    t.text('actor_kind').notNullable();
    t.text('actor_id');
    // e.g. accounts.block, roles.create; a route's operationId for admin calls.
    t.text('action').notNullable();
    t.text('target_kind');
    t.text('target_id');
    t.text('ip');
    t.text('user_agent');
    // 'success' | 'refused' (401/403) | 'failure' (any other error).
    t.text('outcome').notNullable();
    // Never secrets, codes, passwords or tokens (server/audit/record.ts).
    t.jsonb('details').notNullable().defaultTo('{}');
    t.check(`actor_kind in ('account', 'client', 'anonymous', 'system')`, [], 'audit_log_actor_kind_check');
    t.check(`outcome in ('success', 'refused', 'failure')`, [], 'audit_log_outcome_check');
    t.index(['at']);
    t.index(['actor_kind', 'actor_id', 'at']);
    t.index(['target_kind', 'target_id', 'at']);
    t.index(['action', 'at']);
  });
  await db.raw(`
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only';
    end $$`);
  await db.raw('create trigger audit_log_no_update before update on audit_log for each row execute function audit_log_append_only()');
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('audit_log');
  await db.raw('drop function audit_log_append_only()');
}
