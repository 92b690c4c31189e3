import type { Knex } from 'knex';

// Idempotency-Key on the admin API's creates that have no natural key (a client,
// a mailing): a retried request with the same key does not create a second one
// but answers 409 with the id of the first (server/admin/idempotency.ts). Keys
// are the caller's own (per actor and operation) and kept a day.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('admin_idempotency_keys', (t) => {
    t.text('actor_kind').notNullable();
    t.text('actor_id').notNullable();
    // The route's operationId, e.g. clients.create.
    t.text('operation').notNullable();
    t.text('key').notNullable();
    // SHA-256 of the validated request body: the same key with another body is refused (422).
    t.text('fingerprint').notNullable();
    // What the request created; null while it is being handled.
    t.text('target_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['actor_kind', 'actor_id', 'operation', 'key']);
    t.index(['created_at']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('admin_idempotency_keys');
}
