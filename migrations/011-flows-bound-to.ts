import type { Knex } from 'knex';

// Flows also run outside an oidc-provider interaction (adding an email or phone
// on the account page, bound to the browser's session), and may belong to an
// account from the start.
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('flows', (t) => {
    t.renameColumn('interaction_uid', 'bound_to');
    t.uuid('account_id').references('accounts.id').onDelete('CASCADE');
    t.dropChecks(['flows_kind_check']);
    t.check(`kind in ('sign-in', 'register', 'recover', 'confirm')`, [], 'flows_kind_check');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('flows', (t) => {
    t.dropChecks(['flows_kind_check']);
    t.check(`kind in ('sign-in', 'register', 'recover')`, [], 'flows_kind_check');
    t.dropColumn('account_id');
    t.renameColumn('bound_to', 'interaction_uid');
  });
}
