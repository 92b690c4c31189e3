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
