import type { Knex } from 'knex';

// One-time codes (server/verification/codes.ts). One row per flow: issuing a
// new code replaces the row, which is what invalidates the older code. The
// code itself is never stored, only HMAC-SHA256(secret, "flowId:code").
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('verification_codes', (t) => {
    t.text('flow_id').primary();
    t.text('purpose').notNullable();
    t.text('channel').notNullable();
    t.text('identifier').notNullable();
    t.text('code_hmac').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('consumed_at', { useTz: true });
  });
  await db.raw(`alter table verification_codes add constraint verification_codes_channel check (channel in ('email', 'sms'))`);
  await db.raw('create index verification_codes_expires_at on verification_codes (expires_at)');
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('verification_codes');
}
