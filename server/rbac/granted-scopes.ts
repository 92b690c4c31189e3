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

/** The roles of a machine client (client credentials). */
export async function clientRoles(db: Knex, clientId: string): Promise<string[]> {
  const rows = await db('client_roles').select('role_name').where({ client_id: clientId }).orderBy('role_name');
  return rows.map((r: { role_name: string }) => r.role_name);
}

/** Gives a machine client these roles (created when missing). */
export async function addClientRoles(db: Knex, clientId: string, roles: string[]): Promise<void> {
  if (!roles.length) return;
  await db('roles').insert(roles.map((name) => ({ name }))).onConflict('name').ignore();
  await db('client_roles').insert(roles.map((role_name) => ({ client_id: clientId, role_name }))).onConflict(['client_id', 'role_name']).ignore();
}
