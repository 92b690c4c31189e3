import type { Knex } from 'knex';

// Browsers that have signed in to an account (the known-device cookie, OWASP
// "Slow down online guessing attacks with device cookies"): one row per
// account and device, so an attacker's failures elsewhere never lock the
// person's own browsers out, and later "sign-in from a new device" notices.
// Only the SHA-256 of the device id is stored: the table alone cannot mint a
// known device.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('known_devices', (t) => {
    t.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE');
    t.text('device_hash').notNullable();
    t.timestamp('first_seen', { useTz: true }).notNullable();
    t.timestamp('last_seen', { useTz: true }).notNullable();
    t.text('user_agent').notNullable();
    t.primary(['account_id', 'device_hash']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('known_devices');
}
