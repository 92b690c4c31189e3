import type { Knex } from 'knex';

// Consent remembered per person and client (issue 12 §4): what a person allowed a
// client once is not asked again in another browser. oidc-provider keeps a grant
// per browser session; this table outlives sessions. One row per consented item:
// an OpenID Connect scope or claim (resource ''), or a scope of an API (RFC 8707
// resource indicator). Both sides go with their row: deleting the account or the
// client forgets what was consented.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('remembered_consents', (t) => {
    t.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE');
    t.text('client_id').notNullable().references('clients.id').onDelete('CASCADE');
    // '' for OpenID Connect scopes and claims; otherwise the resource indicator.
    t.text('resource').notNullable();
    t.text('kind').notNullable();
    t.text('name').notNullable();
    t.timestamp('consented_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['account_id', 'client_id', 'resource', 'kind', 'name']);
    t.check(`kind in ('scope', 'claim')`, [], 'remembered_consents_kind_check');
    // Deleting a client finds its rows by client.
    t.index(['client_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('remembered_consents');
}
