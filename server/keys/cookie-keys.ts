import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Sealer } from './sealed-secrets.ts';

const NAME = 'cookie_keys';

/**
 * Keys that sign oidc-provider's cookies. From COOKIE_KEYS when set; otherwise
 * generated once and kept in the database so every process accepts every
 * other's cookies.
 */
export async function loadCookieKeys(db: Knex, sealer: Sealer, configured?: string[]): Promise<string[]> {
  if (configured?.length) return configured;
  const generated = sealer.seal([randomBytes(32).toString('base64url')], `server_secret:${NAME}`);
  await db('server_secrets')
    .insert({ name: NAME, value: JSON.stringify(generated) })
    .onConflict('name')
    .ignore();
  const row = await db('server_secrets').first('value').where({ name: NAME });
  return sealer.open(row.value, `server_secret:${NAME}`) as string[];
}
