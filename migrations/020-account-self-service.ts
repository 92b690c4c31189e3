import type { Knex } from 'knex';

// Account self-service (issue 13 §1), three small additions:
// - `accounts.locale`: the language the person chose on /account for the codes
//   and notices sent to them; null: the page's language at the time, as before.
// - `session_devices`: what the sessions list on /account shows about each
//   browser session, which oidc-provider's Session model cannot carry (its
//   payload is a fixed list of properties): the user agent and IP address at
//   sign-in, and when it was last used. Keyed by the session's uid, which stays
//   the same for the session's life (its id changes at every sign-in); rows go
//   with the account, and a row whose session has ended is dropped when the
//   list is drawn or by the periodic purge.
// - flow kind `delete-account`: deleting the account is confirmed by a fresh
//   code to a confirmed email or phone (server/self-service/delete-account.ts).
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('accounts', (t) => {
    t.text('locale');
    t.check(`locale in ('en', 'ru')`, [], 'accounts_locale_check');
  });
  await db.schema.createTable('session_devices', (t) => {
    t.text('session_uid').primary();
    t.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE');
    t.text('user_agent').notNullable();
    t.text('ip').notNullable();
    t.timestamp('signed_in_at', { useTz: true }).notNullable();
    t.timestamp('last_used_at', { useTz: true }).notNullable();
    t.index(['account_id']);
    t.index(['last_used_at']);
  });
  await db.schema.alterTable('flows', (t) => {
    t.dropChecks(['flows_kind_check']);
    t.check(`kind in ('sign-in', 'register', 'recover', 'confirm', 'reauth', 'delete-account')`, [], 'flows_kind_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db('flows').where({ kind: 'delete-account' }).delete();
  await db.schema.alterTable('flows', (t) => {
    t.dropChecks(['flows_kind_check']);
    t.check(`kind in ('sign-in', 'register', 'recover', 'confirm', 'reauth')`, [], 'flows_kind_check');
  });
  await db.schema.dropTable('session_devices');
  await db.schema.alterTable('accounts', (t) => {
    t.dropChecks(['accounts_locale_check']);
    t.dropColumn('locale');
  });
}
