// API resources (RFC 8707) and their permissions, as stored: SQL only.
import type { Knex } from 'knex';

export interface Resource {
  identifier: string;
  name: string;
  accessTokenFormat: 'jwt' | 'opaque';
  /** Seconds; null means ACCESS_TOKEN_TTL. */
  accessTokenTtl: number | null;
  /** Its permissions: the scopes a token for it may carry (RFC 6749 §3.3). */
  scopes: string[];
}

interface Row {
  identifier: string;
  name: string;
  access_token_format: 'jwt' | 'opaque';
  access_token_ttl: number | null;
  scopes: string[] | null;
}

const withScopes = (db: Knex) =>
  db('resources as r').select(
    'r.identifier', 'r.name', 'r.access_token_format', 'r.access_token_ttl',
    db.raw(`coalesce((select array_agg(p.scope order by p.scope) from permissions p where p.resource = r.identifier), '{}') as scopes`),
  );

const toResource = (row: Row): Resource => ({
  identifier: row.identifier,
  name: row.name,
  accessTokenFormat: row.access_token_format,
  accessTokenTtl: row.access_token_ttl,
  scopes: row.scopes ?? [],
});

export async function findResource(db: Knex, identifier: string): Promise<Resource | undefined> {
  if (identifier.includes('\u0000')) return undefined;
  const row = (await withScopes(db).where('r.identifier', identifier).first()) as Row | undefined;
  return row && toResource(row);
}

export async function listResources(db: Knex): Promise<Resource[]> {
  return ((await withScopes(db).orderBy('r.identifier')) as Row[]).map(toResource);
}
