import type { Knex } from 'knex';

// Secrets generated on first start and shared by every process (cookie keys).
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('server_secrets', (t) => {
    t.text('name').primary();
    t.jsonb('value').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('server_secrets');
}
