import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Keys that sign oidc-provider's cookies. From COOKIE_KEYS when set; otherwise
 * generated once and kept in the database so every process accepts every
 * other's cookies.
 */
export async function loadCookieKeys(db: Knex, configured?: string[]): Promise<string[]> {
  if (configured?.length) return configured;
  const generated = [randomBytes(32).toString('base64url')];
  await db('server_secrets')
    .insert({ name: 'cookie_keys', value: JSON.stringify(generated) })
    .onConflict('name')
    .ignore();
  const row = await db('server_secrets').first('value').where({ name: 'cookie_keys' });
  return row.value as string[];
}
