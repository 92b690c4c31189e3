import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('roles', (t) => {
    t.text('name').primary();
    t.text('description').notNullable().defaultTo('');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
  });
  await db.schema.createTable('account_roles', (t) => {
    t.uuid('account_id').notNullable().references('accounts.id').onDelete('CASCADE');
    t.text('role_name').notNullable().references('roles.name').onDelete('CASCADE');
    t.primary(['account_id', 'role_name']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('account_roles');
  await db.schema.dropTable('roles');
}
