// /api/admin/resources: API resources (RFC 8707) and their permissions (scopes).
// The table is shared with the bootstrap (server/rbac/bootstrap.ts): resources
// named in the configuration (DEFAULT_RESOURCE, ISSUER/api, ISSUER/admin,
// RESOURCE_SERVERS) come back at every start, so they cannot be deleted here and
// their token format follows the configuration.
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Config } from '../../config/index.ts';
import { Conflict, NotFound } from '../../errors/index.ts';
import { deletePermission, deleteResource, findResource, insertPermission, insertResource, listResources, updatePermission, updateResource, type Resource } from '../../rbac/resources.ts';
import { ADMIN_SCOPE } from '../../rbac/bootstrap.ts';
import { defineRoute, type AnyRoute } from '../guard.ts';
import { resourceIdentifier, scopeToken } from '../schemas.ts';

export const resourceSchema = z.object({
  identifier: z.string(),
  name: z.string(),
  access_token_format: z.enum(['jwt', 'opaque']),
  access_token_ttl: z.number().int().nullable().describe('seconds; null: ACCESS_TOKEN_TTL'),
  scopes: z.array(z.string()),
  permissions: z.array(z.object({ scope: z.string(), description: z.string() })).describe('the scopes again, each with what it allows'),
  configured: z.boolean().describe('named in the configuration: kept at every start'),
});

const ttl = z.number().int().min(60).max(86_400).nullable();
const identifierParams = z.object({ identifier: resourceIdentifier });
const permissionParams = z.object({ identifier: resourceIdentifier, scope: scopeToken });
const permissionDescription = z.string().max(500);

export function resourceRoutes(db: Knex, config: Config): AnyRoute[] {
  const configured = new Set([...config.resourceServers.map((r) => r.identifier), config.adminApiResource]);
  const view = (r: Resource) => ({
    identifier: r.identifier, name: r.name, access_token_format: r.accessTokenFormat, access_token_ttl: r.accessTokenTtl, scopes: r.scopes,
    permissions: r.permissions,
    configured: configured.has(r.identifier),
  });
  const existing = async (identifier: string) => {
    const found = await findResource(db, identifier);
    if (!found) throw new NotFound('no resource has this identifier');
    return found;
  };
  return [
    defineRoute({
      method: 'get', path: '/resources', operationId: 'resources.list', summary: 'Every API resource with its scopes', tag: 'resources',
      response: z.object({ items: z.array(resourceSchema) }), status: 200,
      async handler() {
        return { items: (await listResources(db)).map(view) };
      },
    }),
    defineRoute({
      method: 'post', path: '/resources', operationId: 'resources.create', summary: 'Create an API resource (409 with existing_id when it exists)', tag: 'resources',
      body: z.object({
        identifier: resourceIdentifier,
        name: z.string().max(200).default(''),
        access_token_format: z.enum(['jwt', 'opaque']).default('jwt'),
        access_token_ttl: ttl.default(null),
        scopes: z.array(scopeToken).max(200).default([]),
      }),
      response: resourceSchema, status: 201, errors: [409],
      audit: ({ body }) => ({ identifier: body.identifier, scopes: body.scopes }),
      async handler({ body }) {
        const created = await db.transaction(async (trx) => {
          if (!(await insertResource(trx, { identifier: body.identifier, name: body.name, accessTokenFormat: body.access_token_format, accessTokenTtl: body.access_token_ttl }))) return false;
          for (const scope of new Set(body.scopes)) await insertPermission(trx, body.identifier, scope, '');
          return true;
        });
        if (!created) throw new Conflict('a resource with this identifier exists', body.identifier);
        return view(await existing(body.identifier));
      },
    }),
    defineRoute({
      method: 'get', path: '/resources/:identifier', operationId: 'resources.read', summary: 'One API resource (identifier URL-encoded)', tag: 'resources',
      params: identifierParams, response: resourceSchema, status: 200, errors: [404],
      async handler({ params }) {
        return view(await existing(params.identifier));
      },
    }),
    defineRoute({
      method: 'patch', path: '/resources/:identifier', operationId: 'resources.update', summary: 'Change a resource\'s name, token format or token lifetime', tag: 'resources',
      params: identifierParams,
      body: z.object({ name: z.string().max(200).optional(), access_token_format: z.enum(['jwt', 'opaque']).optional(), access_token_ttl: ttl.optional() }),
      response: resourceSchema, status: 200, errors: [404, 409],
      async handler({ params, body }) {
        if (body.access_token_format && configured.has(params.identifier)) {
          throw new Conflict('this resource\'s token format is set by the configuration');
        }
        if (!(await updateResource(db, params.identifier, { name: body.name, accessTokenFormat: body.access_token_format, accessTokenTtl: body.access_token_ttl }))) {
          throw new NotFound('no resource has this identifier');
        }
        return view(await existing(params.identifier));
      },
    }),
    defineRoute({
      method: 'delete', path: '/resources/:identifier', operationId: 'resources.delete', summary: 'Delete a resource, its permissions and every grant of them', tag: 'resources',
      params: identifierParams, status: 204, errors: [404, 409],
      async handler({ params }) {
        if (configured.has(params.identifier)) throw new Conflict('this resource is named in the configuration and would come back at the next start');
        if (!(await deleteResource(db, params.identifier))) throw new NotFound('no resource has this identifier');
      },
    }),
    defineRoute({
      method: 'post', path: '/resources/:identifier/permissions', operationId: 'permissions.create', summary: 'Add a permission (scope) to a resource', tag: 'resources',
      params: identifierParams, body: z.object({ scope: scopeToken, description: permissionDescription.default('') }),
      response: resourceSchema, status: 201, errors: [404, 409],
      audit: ({ body }) => ({ scope: body.scope }),
      async handler({ params, body }) {
        await existing(params.identifier);
        if (!(await insertPermission(db, params.identifier, body.scope, body.description))) throw new Conflict('the resource has this scope', body.scope);
        return view(await existing(params.identifier));
      },
    }),
    defineRoute({
      method: 'patch', path: '/resources/:identifier/permissions/:scope', operationId: 'permissions.update', summary: 'Change what a permission says it allows', tag: 'resources',
      params: permissionParams, body: z.object({ description: permissionDescription }),
      response: resourceSchema, status: 200, errors: [404],
      audit: ({ params }) => ({ scope: params.scope }),
      async handler({ params, body }) {
        if (!(await updatePermission(db, params.identifier, params.scope, body.description))) throw new NotFound('the resource has no such scope');
        return view(await existing(params.identifier));
      },
    }),
    defineRoute({
      method: 'delete', path: '/resources/:identifier/permissions/:scope', operationId: 'permissions.delete', summary: 'Remove a permission; roles stop granting it', tag: 'resources',
      params: permissionParams, status: 204, errors: [404, 409],
      async handler({ params }) {
        // Without it no token could reach this API again (until a restart re-creates it).
        if (params.identifier === config.adminApiResource && params.scope === ADMIN_SCOPE) throw new Conflict('the admin permission of the admin API cannot be removed');
        if (!(await deletePermission(db, params.identifier, params.scope))) throw new NotFound('the resource has no such scope');
      },
    }),
  ];
}
