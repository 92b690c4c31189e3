// At start: the configuration's resources (DEFAULT_RESOURCE, ISSUER/api,
// RESOURCE_SERVERS) and default roles (DEFAULT_ROLES) are written to the
// database, where the CLI and the admin API manage them from then on.
// Idempotent and safe when several processes start together.
import type { Knex } from 'knex';
import type { Config } from '../config/index.ts';

/**
 * Upserts each configured resource (its token format follows the
 * configuration) and adds its configured scopes as permissions. A permission
 * created here for the first time is granted to the default roles, so a fresh
 * installation works as before for people; one an operator later takes away
 * from a role is not given back on the next start. Machine clients get
 * permissions only through roles of their own.
 */
export async function bootstrapRbac(db: Knex, config: Pick<Config, 'resourceServers' | 'defaultRoles'>): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('roles').insert(config.defaultRoles.map((name) => ({ name }))).onConflict('name').ignore();
    await trx('roles').update({ is_default: trx.raw('name = any(?)', [config.defaultRoles]) });
    for (const server of config.resourceServers) {
      await trx('resources')
        .insert({ identifier: server.identifier, access_token_format: server.accessTokenFormat })
        .onConflict('identifier')
        .merge({ access_token_format: server.accessTokenFormat, updated_at: trx.fn.now() });
      const scopes = [...new Set(server.scope.split(' ').filter(Boolean))];
      if (!scopes.length) continue;
      const created = await trx('permissions')
        .insert(scopes.map((scope) => ({ resource: server.identifier, scope })))
        .onConflict(['resource', 'scope'])
        .ignore()
        .returning('scope');
      const grants = created.flatMap((row: { scope: string }) =>
        config.defaultRoles.map((role_name) => ({ role_name, resource: server.identifier, scope: row.scope })),
      );
      if (grants.length) await trx('role_permissions').insert(grants).onConflict(['role_name', 'resource', 'scope']).ignore();
    }
  });
}
