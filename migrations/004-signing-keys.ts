import type { Knex } from 'knex';

// Private JWKs shared by every process. A retired key stays published in JWKS
// until `expires_at`, when nothing it signed can still be valid.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('signing_keys', (t) => {
    t.text('kid').primary();
    t.text('alg').notNullable();
    t.jsonb('jwk').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.timestamp('retired_at', { useTz: true });
    t.timestamp('expires_at', { useTz: true });
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('signing_keys');
}
