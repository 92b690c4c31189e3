import type { Knex } from 'knex';

// Re-authentication on the account page (step-up before an email or phone is
// added or changed; OWASP ASVS V2.2.3, V3.7.1) is a flow kind of its own. Every
// change on the account page looks up the session's completed re-authentication
// by bound_to, hence the index.
export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('flows', (t) => {
    t.dropChecks(['flows_kind_check']);
    t.check(`kind in ('sign-in', 'register', 'recover', 'confirm', 'reauth')`, [], 'flows_kind_check');
  });
  await db.raw('create index flows_bound_to on flows (bound_to, kind)');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop index flows_bound_to');
  await db('flows').where({ kind: 'reauth' }).delete();
  await db.schema.alterTable('flows', (t) => {
    t.dropChecks(['flows_kind_check']);
    t.check(`kind in ('sign-in', 'register', 'recover', 'confirm')`, [], 'flows_kind_check');
  });
}
