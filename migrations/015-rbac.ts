import type { Knex } from 'knex';

// Role-based access (issue 11): API resources (RFC 8707 resource indicators)
// with their permissions (scopes), roles that grant permissions, and roles of
// machine clients. Accounts' roles are in account_roles (002).
export async function up(db: Knex): Promise<void> {
  // Roles every new account gets (DEFAULT_ROLES marks them at start).
  await db.schema.alterTable('roles', (t) => {
    t.boolean('is_default').notNullable().defaultTo(false);
  });
  await db.schema.createTable('resources', (t) => {
    // RFC 8707 §2: an absolute URI without a fragment.
    t.text('identifier').primary();
    t.text('name').notNullable().defaultTo('');
    t.text('access_token_format').notNullable().defaultTo('jwt');
    // Seconds; null: ACCESS_TOKEN_TTL.
    t.integer('access_token_ttl');
    t.timestamps(true, true);
    t.check(`access_token_format in ('jwt', 'opaque')`, [], 'resources_format_check');
    t.check('access_token_ttl is null or access_token_ttl between 60 and 86400', [], 'resources_ttl_check');
  });
  await db.schema.createTable('permissions', (t) => {
    t.text('resource').notNullable().references('resources.identifier').onDelete('CASCADE').onUpdate('CASCADE');
    t.text('scope').notNullable();
    t.text('description').notNullable().defaultTo('');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    t.primary(['resource', 'scope']);
    // RFC 6749 §3.3 scope-token: printable ASCII but space, '"' and '\'.
    t.check(`scope ~ '^[!#-\\[\\]-~]+$'`, [], 'permissions_scope_check');
  });
  await db.schema.createTable('role_permissions', (t) => {
    t.text('role_name').notNullable().references('roles.name').onDelete('CASCADE').onUpdate('CASCADE');
    t.text('resource').notNullable();
    t.text('scope').notNullable();
    t.primary(['role_name', 'resource', 'scope']);
    t.foreign(['resource', 'scope']).references(['resource', 'scope']).inTable('permissions').onDelete('CASCADE').onUpdate('CASCADE');
  });
  await db.schema.createTable('client_roles', (t) => {
    t.text('client_id').notNullable().references('clients.id').onDelete('CASCADE');
    t.text('role_name').notNullable().references('roles.name').onDelete('CASCADE').onUpdate('CASCADE');
    t.primary(['client_id', 'role_name']);
  });
  // The roles every installation starts with: `user` (new accounts' default) and `admin`.
  await db('roles')
    .insert([
      { name: 'user', description: 'Every person; the default role of new accounts' },
      { name: 'admin', description: 'Operators: the admin API' },
    ])
    .onConflict('name')
    .ignore();
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('client_roles');
  await db.schema.dropTable('role_permissions');
  await db.schema.dropTable('permissions');
  await db.schema.dropTable('resources');
  await db.schema.alterTable('roles', (t) => {
    t.dropColumn('is_default');
  });
}
