import type { Knex } from 'knex';

// Finds every session, grant and token of an account, to end them all at once
// (password reset, blocked account).
export async function up(db: Knex): Promise<void> {
  await db.raw(`create index oidc_models_account_id on oidc_models ((payload->>'accountId')) where payload->>'accountId' is not null`);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop index oidc_models_account_id');
}
