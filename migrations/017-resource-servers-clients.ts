import type { Knex } from 'knex';

// Which clients are a resource's own resource server (issue 11 §5): the clients
// that may introspect tokens issued for that resource (RFC 7662 §4: the
// authorization server decides which protected resources may introspect which
// tokens). Many to many: one API may run under several clients, and one client
// may serve several APIs. Both sides go with their row.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('resource_clients', (t) => {
    t.text('resource').notNullable().references('resources.identifier').onDelete('CASCADE').onUpdate('CASCADE');
    t.text('client_id').notNullable().references('clients.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['resource', 'client_id']);
    // Introspection asks by client: which resources does this client serve?
    t.index(['client_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('resource_clients');
}
