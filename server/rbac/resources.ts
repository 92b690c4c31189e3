// API resources (RFC 8707) and their permissions, as stored: SQL only.
import type { Knex } from 'knex';
import { deletedCount } from '../db/deleted-count.ts';

export interface Resource {
  identifier: string;
  name: string;
  accessTokenFormat: 'jwt' | 'opaque';
  /** Seconds; null means ACCESS_TOKEN_TTL. */
  accessTokenTtl: number | null;
  /** Its permissions: the scopes a token for it may carry (RFC 6749 §3.3). */
  scopes: string[];
  /** The same permissions with what each allows, in words (scope order). */
  permissions: Permission[];
}

export interface Permission {
  scope: string;
  description: string;
}

interface Row {
  identifier: string;
  name: string;
  access_token_format: 'jwt' | 'opaque';
  access_token_ttl: number | null;
  permissions: Permission[] | null;
}

const withScopes = (db: Knex) =>
  db('resources as r').select(
    'r.identifier', 'r.name', 'r.access_token_format', 'r.access_token_ttl',
    db.raw(`(select json_agg(json_build_object('scope', p.scope, 'description', p.description) order by p.scope) from permissions p where p.resource = r.identifier) as permissions`),
  );

const toResource = (row: Row): Resource => ({
  identifier: row.identifier,
  name: row.name,
  accessTokenFormat: row.access_token_format,
  accessTokenTtl: row.access_token_ttl,
  scopes: (row.permissions ?? []).map((p) => p.scope),
  permissions: row.permissions ?? [],
});

export async function findResource(db: Knex, identifier: string): Promise<Resource | undefined> {
  if (identifier.includes('\u0000')) return undefined;
  const row = (await withScopes(db).where('r.identifier', identifier).first()) as Row | undefined;
  return row && toResource(row);
}

export async function listResources(db: Knex): Promise<Resource[]> {
  return ((await withScopes(db).orderBy('r.identifier')) as Row[]).map(toResource);
}

export interface ResourceInput {
  identifier: string;
  name: string;
  accessTokenFormat: 'jwt' | 'opaque';
  accessTokenTtl: number | null;
}

/** Inserts a resource; false when one with this identifier exists. */
export async function insertResource(db: Knex, input: ResourceInput): Promise<boolean> {
  const rows = await db('resources')
    .insert({ identifier: input.identifier, name: input.name, access_token_format: input.accessTokenFormat, access_token_ttl: input.accessTokenTtl })
    .onConflict('identifier')
    .ignore()
    .returning('identifier');
  return rows.length > 0;
}

export async function updateResource(db: Knex, identifier: string, change: Partial<Omit<ResourceInput, 'identifier'>>): Promise<boolean> {
  const values = {
    ...(change.name !== undefined ? { name: change.name } : {}),
    ...(change.accessTokenFormat !== undefined ? { access_token_format: change.accessTokenFormat } : {}),
    ...(change.accessTokenTtl !== undefined ? { access_token_ttl: change.accessTokenTtl } : {}),
    updated_at: db.fn.now(),
  };
  return (await db('resources').where({ identifier }).update(values)) > 0;
}

/** Deletes a resource with its permissions and the roles' grants of them (ON DELETE CASCADE). */
export async function deleteResource(db: Knex, identifier: string): Promise<boolean> {
  return deletedCount(await db('resources').where({ identifier }).delete()) > 0;
}

/** Adds one permission; false when it exists. */
export async function insertPermission(db: Knex, resource: string, scope: string, description: string): Promise<boolean> {
  return (await db('permissions').insert({ resource, scope, description }).onConflict(['resource', 'scope']).ignore().returning('scope')).length > 0;
}

/** Changes what a permission says it allows; false when the resource has no such scope. */
export async function updatePermission(db: Knex, resource: string, scope: string, description: string): Promise<boolean> {
  return (await db('permissions').where({ resource, scope }).update({ description })) > 0;
}

export async function deletePermission(db: Knex, resource: string, scope: string): Promise<boolean> {
  return deletedCount(await db('permissions').where({ resource, scope }).delete()) > 0;
}
