// /api/admin/roles: roles and the permissions they grant (issue 11 §3). Changes
// apply to the next token issued (server/oidc/resource-servers.ts); machine
// clients' grants are remembered up to 5 s per process.
import { z } from 'zod';
import type { Knex } from 'knex';
import { Conflict, InvalidRequest, NotFound } from '../../errors/index.ts';
import { ROLE_NAME } from '../../config/index.ts';
import { deleteRole, findRole, insertRole, listRoles, missingRoles, setRolePermissions, updateRoleDescription, type RoleRow } from '../../rbac/roles.ts';
import { ADMIN_ROLE } from '../../rbac/bootstrap.ts';
import { defineRoute, type AnyRoute } from '../guard.ts';
import { resourceIdentifier, scopeToken } from '../schemas.ts';

export const roleName = z.string().regex(ROLE_NAME, 'must be a role name: lower-case letters, digits, _ : . - (at most 64)');

/** 400 naming the roles in `body.roles` that do not exist: roles are created here, not by giving them. */
export async function requireRoles(db: Knex, roles: string[]): Promise<void> {
  const missing = await missingRoles(db, roles);
  if (missing.length) throw new InvalidRequest(`body.roles: no such role: ${missing.join(', ')}`);
}

const permission = z.object({ resource: resourceIdentifier, scope: scopeToken });

export const roleSchema = z.object({
  name: z.string(),
  description: z.string(),
  /** One of DEFAULT_ROLES: every new account gets it (set by configuration). */
  is_default: z.boolean(),
  permissions: z.array(z.object({ resource: z.string(), scope: z.string() })),
});

const nameParams = z.object({ name: roleName });

async function existing(db: Knex, name: string): Promise<RoleRow> {
  const role = await findRole(db, name);
  if (!role) throw new NotFound('no role has this name');
  return role;
}

export function roleRoutes(db: Knex): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/roles', operationId: 'roles.list', summary: 'Every role with what it grants', tag: 'roles',
      response: z.object({ items: z.array(roleSchema) }),
      status: 200,
      async handler() {
        return { items: await listRoles(db) };
      },
    }),
    defineRoute({
      method: 'post', path: '/roles', operationId: 'roles.create', summary: 'Create a role (409 with existing_id when the name is taken)', tag: 'roles',
      body: z.object({ name: roleName, description: z.string().max(500).default('') }),
      response: roleSchema,
      status: 201,
      errors: [409],
      audit: ({ body }) => ({ name: body.name }),
      async handler({ body }) {
        if (!(await insertRole(db, body))) throw new Conflict('a role of this name exists', body.name);
        return existing(db, body.name);
      },
    }),
    defineRoute({
      method: 'get', path: '/roles/:name', operationId: 'roles.read', summary: 'One role', tag: 'roles',
      params: nameParams, response: roleSchema, status: 200, errors: [404],
      async handler({ params }) {
        return existing(db, params.name);
      },
    }),
    defineRoute({
      method: 'patch', path: '/roles/:name', operationId: 'roles.update', summary: 'Change a role\'s description', tag: 'roles',
      params: nameParams, body: z.object({ description: z.string().max(500) }), response: roleSchema, status: 200, errors: [404],
      async handler({ params, body }) {
        if (!(await updateRoleDescription(db, params.name, body.description))) throw new NotFound('no role has this name');
        return existing(db, params.name);
      },
    }),
    defineRoute({
      method: 'delete', path: '/roles/:name', operationId: 'roles.delete', summary: 'Delete a role; its holders lose it (not the role admin)', tag: 'roles',
      params: nameParams, status: 204, errors: [404, 409],
      async handler({ params }) {
        // Deleting `admin` would lock every operator out of this API at once.
        if (params.name === ADMIN_ROLE) throw new Conflict('the role admin cannot be deleted');
        if (!(await deleteRole(db, params.name))) throw new NotFound('no role has this name');
      },
    }),
    defineRoute({
      method: 'put', path: '/roles/:name/permissions', operationId: 'roles.setPermissions',
      summary: 'Replace what a role grants; every permission must exist', tag: 'roles',
      params: nameParams, body: z.object({ permissions: z.array(permission).max(500) }), response: roleSchema, status: 200, errors: [404],
      audit: ({ body }) => ({ permissions: body.permissions }),
      async handler({ params, body }) {
        await existing(db, params.name);
        try {
          await setRolePermissions(db, params.name, body.permissions);
        } catch (err) {
          // SQLSTATE 23503: a permission that does not exist; 23505: listed twice.
          if ((err as { code?: string }).code === '23503') throw new InvalidRequest('body.permissions: a listed permission does not exist');
          if ((err as { code?: string }).code === '23505') throw new InvalidRequest('body.permissions: a permission is listed twice');
          throw err;
        }
        return existing(db, params.name);
      },
    }),
  ];
}
