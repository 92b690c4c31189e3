import type { Knex } from 'knex';

// Self-service flows (sign in by code, register, recover): one row each, with
// its state and expiry, bound to the browser's oidc-provider interaction.
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('flows', (t) => {
    t.text('id').primary();
    t.text('kind').notNullable();
    t.text('state').notNullable();
    t.text('interaction_uid').notNullable();
    t.text('identifier_kind').notNullable();
    t.text('identifier').notNullable();
    t.text('locale').notNullable();
    t.jsonb('data').notNullable().defaultTo('{}');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamps(true, true);
    t.check(`kind in ('sign-in', 'register', 'recover')`, [], 'flows_kind_check');
  });
  await db.raw('create index flows_expires_at on flows (expires_at)');
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('flows');
}
