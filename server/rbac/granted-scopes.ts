// Which permissions (scopes) of a resource a subject holds through its roles
// (issue 11): a person through account_roles, a machine client through
// client_roles. SQL only; the rule that applies them is in
// server/oidc/resource-servers.ts.
import type { Knex } from 'knex';

export type Subject = { accountId: string } | { clientId: string };

export async function grantedScopes(db: Knex, subject: Subject, resource: string): Promise<Set<string>> {
  const [table, column, id] = 'accountId' in subject
    ? ['account_roles', 'account_id', subject.accountId]
    : ['client_roles', 'client_id', subject.clientId];
  const rows = await db('role_permissions as rp')
    .distinct('rp.scope')
    .join(`${table} as s`, 's.role_name', 'rp.role_name')
    .where(`s.${column}`, id)
    .andWhere('rp.resource', resource);
  return new Set(rows.map((r: { scope: string }) => r.scope));
}
