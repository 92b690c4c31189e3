// Which permissions (scopes) of a resource a subject holds through its roles
// (issue 11): a person through account_roles, a machine client through
// client_roles. SQL only; the rule that applies them is in
// server/oidc/resource-servers.ts. A person's are read with the account itself
// (findAccountWithPermissions, server/accounts/queries.ts), one query per token.
import type { Knex } from 'knex';

export type Subject = { accountId: string } | { clientId: string };

/** The scopes of `resource` a machine client's own roles grant (client credentials). */
export async function clientGrantedScopes(db: Knex, clientId: string, resource: string): Promise<Set<string>> {
  const rows = await db('role_permissions as rp')
    .distinct('rp.scope')
    .join('client_roles as s', 's.role_name', 'rp.role_name')
    .where('s.client_id', clientId)
    .andWhere('rp.resource', resource);
  return new Set(rows.map((r: { scope: string }) => r.scope));
}
