import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('accounts', (t) => {
    t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
    // Stored normalised: trimmed, domain lower-cased. Uniqueness ignores case.
    t.text('email');
    t.timestamp('email_verified_at', { useTz: true });
    // E.164, e.g. +4915112345678.
    t.text('phone');
    t.timestamp('phone_verified_at', { useTz: true });
    t.text('password_hash');
    t.text('status').notNullable().defaultTo('active');
    t.timestamps(true, true);
    t.check(`status in ('active', 'blocked')`, [], 'accounts_status_check');
    t.check(`phone ~ '^\\+[1-9][0-9]{6,14}$'`, [], 'accounts_phone_e164_check');
  });
  await db.raw('create unique index accounts_email_unique on accounts (lower(email)) where email is not null');
  await db.raw('create unique index accounts_phone_unique on accounts (phone) where phone is not null');
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('accounts');
}
