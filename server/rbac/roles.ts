// Roles and what they grant: SQL only (issue 11).
import type { Knex } from 'knex';

/** Grants a role these permissions of a resource (the role is created when missing; the permissions must exist). */
export async function grantPermissions(db: Knex, role: string, resource: string, scopes: string[]): Promise<void> {
  if (!scopes.length) return;
  await db('roles').insert({ name: role }).onConflict('name').ignore();
  await db('role_permissions')
    .insert(scopes.map((scope) => ({ role_name: role, resource, scope })))
    .onConflict(['role_name', 'resource', 'scope'])
    .ignore();
}

/** Takes these permissions of a resource away from a role. */
export async function revokePermissions(db: Knex, role: string, resource: string, scopes: string[]): Promise<void> {
  await db('role_permissions').where({ role_name: role, resource }).whereIn('scope', scopes).delete();
}

/** Adds permissions (scopes) to a resource. */
export async function addPermissions(db: Knex, resource: string, scopes: string[]): Promise<void> {
  if (!scopes.length) return;
  await db('permissions').insert(scopes.map((scope) => ({ resource, scope }))).onConflict(['resource', 'scope']).ignore();
}

/** Gives an account these roles (created when missing). */
export async function addAccountRoles(db: Knex, accountId: string, roles: string[]): Promise<void> {
  if (!roles.length) return;
  await db('roles').insert(roles.map((name) => ({ name }))).onConflict('name').ignore();
  await db('account_roles').insert(roles.map((role_name) => ({ account_id: accountId, role_name }))).onConflict(['account_id', 'role_name']).ignore();
}

/** Takes these roles away from an account. */
export async function removeAccountRoles(db: Knex, accountId: string, roles: string[]): Promise<void> {
  await db('account_roles').where({ account_id: accountId }).whereIn('role_name', roles).delete();
}
