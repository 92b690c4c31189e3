import type { Knex } from 'knex';

// Client metadata (RFC 7591 §2) as oidc-provider stores it, one row per client.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('clients', (t) => {
    t.text('id').primary();
    t.jsonb('payload').notNullable();
    t.timestamps(true, true);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('clients');
}
