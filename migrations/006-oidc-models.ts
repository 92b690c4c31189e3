import type { Knex } from 'knex';

// One table for every oidc-provider model the SQL adapter stores
// (sessions, grants, codes, tokens, interactions, ...).
export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('oidc_models', (t) => {
    t.text('model').notNullable();
    t.text('id').notNullable();
    t.jsonb('payload').notNullable();
    t.text('grant_id');
    t.text('user_code');
    t.text('uid');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('consumed_at', { useTz: true });
    t.primary(['model', 'id']);
  });
  await db.raw('create index oidc_models_grant_id on oidc_models (grant_id) where grant_id is not null');
  await db.raw('create index oidc_models_user_code on oidc_models (model, user_code) where user_code is not null');
  await db.raw('create index oidc_models_uid on oidc_models (model, uid) where uid is not null');
  await db.raw('create index oidc_models_expires_at on oidc_models (expires_at) where expires_at is not null');
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTable('oidc_models');
}
