// Roles and what they grant: SQL only (issue 11).
import type { Knex } from 'knex';
import { deletedCount } from '../db/deleted-count.ts';

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

/** Gives an account these roles (created when missing). */
export async function addAccountRoles(db: Knex, accountId: string, roles: string[]): Promise<void> {
  if (!roles.length) return;
  await db('roles').insert(roles.map((name) => ({ name }))).onConflict('name').ignore();
  await db('account_roles').insert(roles.map((role_name) => ({ account_id: accountId, role_name }))).onConflict(['account_id', 'role_name']).ignore();
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

/** Takes these roles away from an account. */
export async function removeAccountRoles(db: Knex, accountId: string, roles: string[]): Promise<void> {
  await db('account_roles').where({ account_id: accountId }).whereIn('role_name', roles).delete();
}

export interface RoleRow {
  name: string;
  description: string;
  is_default: boolean;
  permissions: { resource: string; scope: string }[];
}

const rolesWithPermissions = (db: Knex) =>
  db('roles as r').select(
    'r.name', 'r.description', 'r.is_default',
    db.raw(`coalesce((select json_agg(json_build_object('resource', p.resource, 'scope', p.scope) order by p.resource, p.scope)
      from role_permissions p where p.role_name = r.name), '[]'::json) as permissions`),
  );

export async function listRoles(db: Knex): Promise<RoleRow[]> {
  return rolesWithPermissions(db).orderBy('r.name');
}

export async function findRole(db: Knex, name: string): Promise<RoleRow | undefined> {
  return rolesWithPermissions(db).where('r.name', name).first();
}

/** Inserts a role; false when one of that name exists. */
export async function insertRole(db: Knex, role: { name: string; description: string }): Promise<boolean> {
  return (await db('roles').insert(role).onConflict('name').ignore().returning('name')).length > 0;
}

export async function updateRoleDescription(db: Knex, name: string, description: string): Promise<boolean> {
  return (await db('roles').where({ name }).update({ description })) > 0;
}

/** Deletes a role; its holders and grants go with it (ON DELETE CASCADE). */
export async function deleteRole(db: Knex, name: string): Promise<boolean> {
  return deletedCount(await db('roles').where({ name }).delete()) > 0;
}

/** Replaces what a role grants; every permission must exist (else the foreign key fails, SQLSTATE 23503). */
export async function setRolePermissions(db: Knex, name: string, permissions: { resource: string; scope: string }[]): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('role_permissions').where({ role_name: name }).delete();
    if (permissions.length) await trx('role_permissions').insert(permissions.map((p) => ({ role_name: name, ...p })));
  });
}

/** Replaces an account's roles (each must exist). */
export async function setAccountRoles(db: Knex, accountId: string, roles: string[]): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('account_roles').where({ account_id: accountId }).delete();
    if (roles.length) await trx('account_roles').insert(roles.map((role_name) => ({ account_id: accountId, role_name })));
  });
}

/** Replaces a machine client's roles (each must exist). */
export async function setClientRoles(db: Knex, clientId: string, roles: string[]): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('client_roles').where({ client_id: clientId }).delete();
    if (roles.length) await trx('client_roles').insert(roles.map((role_name) => ({ client_id: clientId, role_name })));
  });
}

/** The names among `roles` that do not exist. */
export async function missingRoles(db: Knex, roles: string[]): Promise<string[]> {
  if (!roles.length) return [];
  const found = new Set((await db('roles').whereIn('name', roles).select('name')).map((r: { name: string }) => r.name));
  return roles.filter((r) => !found.has(r));
}
