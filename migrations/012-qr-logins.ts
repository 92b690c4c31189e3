import type { Knex } from 'knex';

// Cross-device QR sign-in: a desktop's login page shows a QR; a phone that is
// signed in scans and approves it. The QR carries a secret token; only its
// SHA-256 is stored.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('qr_logins', (t) => {
    t.text('id').primary();
    t.text('token_hash').notNullable().unique();
    t.text('interaction_uid').notNullable();
    t.text('client_id').notNullable();
    t.text('state').notNullable();
    t.text('desktop_ip').notNullable();
    t.text('desktop_user_agent').notNullable();
    t.text('scanned_by');
    t.uuid('account_id').references('accounts.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.check(`state in ('pending', 'scanned', 'approved', 'denied', 'completed')`, [], 'qr_logins_state_check');
  });
  await db.raw('create index qr_logins_interaction on qr_logins (interaction_uid)');
  await db.raw('create index qr_logins_expires_at on qr_logins (expires_at)');
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('qr_logins');
}
