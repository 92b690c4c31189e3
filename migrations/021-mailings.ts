import type { Knex } from 'knex';

// Mailings (issue 13 §3): a mailing, its recipients, who unsubscribed, and which
// addresses bounced hard.
//   mailings: templates per language (subject, text, HTML), the audience as given,
//     and a status (draft, running, paused, cancelled, done).
//   mailing_recipients: one row per account of the audience, its address and language
//     fixed when the mailing starts, and its state: queued, sent (with the Message-ID),
//     failed, skipped (with the reason). The row is what makes a send happen once
//     (server/mailings/send.ts, docs/mailings.md).
//   mailing_unsubscribes: accounts that want no mailings (security notices still go).
//   mail_bounces: addresses whose server answered 5xx; skipped until the account's
//     address is another.
//   mailing_pace: one row, the shared schedule that spaces sends to MAILING_RATE.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('mailings', (t) => {
    t.uuid('id').primary();
    t.text('name').notNullable();
    t.jsonb('templates').notNullable();
    t.jsonb('audience').notNullable();
    t.text('status').notNullable().defaultTo('draft');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('started_at', { useTz: true });
    t.check(`status in ('draft', 'running', 'paused', 'cancelled')`, [], 'mailings_status_check');
  });
  await db.schema.createTable('mailing_recipients', (t) => {
    t.uuid('mailing_id').notNullable().references('mailings.id').onDelete('CASCADE');
    // No foreign key: the record of a send outlives the account.
    t.uuid('account_id').notNullable();
    t.text('email');
    t.text('locale').notNullable();
    t.text('state').notNullable();
    t.text('reason');
    t.text('message_id');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['mailing_id', 'account_id']);
    t.check(`state in ('queued', 'sending', 'sent', 'failed', 'skipped')`, [], 'mailing_recipients_state_check');
    t.index(['mailing_id', 'state']);
  });
  await db.schema.createTable('mailing_unsubscribes', (t) => {
    t.uuid('account_id').primary().references('accounts.id').onDelete('CASCADE');
    t.timestamp('unsubscribed_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
  // MAILING_RATE shared by every process (server/mailings/send.ts sharedPace): the
  // moment the next send may start, moved forward by one interval per send.
  await db.schema.createTable('mailing_pace', (t) => {
    t.text('name').primary();
    t.timestamp('next_at', { useTz: true }).notNullable();
  });
  await db.schema.createTable('mail_bounces', (t) => {
    // Lower-cased address.
    t.text('address').primary();
    t.integer('response_code').notNullable();
    t.timestamp('bounced_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('mailing_pace');
  await db.schema.dropTable('mail_bounces');
  await db.schema.dropTable('mailing_unsubscribes');
  await db.schema.dropTable('mailing_recipients');
  await db.schema.dropTable('mailings');
}
