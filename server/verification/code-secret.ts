import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Sealer } from '../keys/sealed-secrets.ts';

const NAME = 'code_hmac_secret';

/**
 * Key of the HMACs that stand in for one-time codes (ASVS V2.7.5: keep only a
 * hash of the code). From CODE_HMAC_SECRET when set; otherwise generated once
 * and kept in the database, so every process verifies every other's codes.
 */
export async function loadCodeSecret(db: Knex, sealer: Sealer, configured?: string): Promise<string> {
  if (configured) return configured;
  // Insert-or-keep: when processes start together, the first insert wins and all read it.
  await db('server_secrets')
    .insert({ name: NAME, value: JSON.stringify(sealer.seal(randomBytes(32).toString('base64url'), `server_secret:${NAME}`)) })
    .onConflict('name')
    .ignore();
  const row = await db('server_secrets').first('value').where({ name: NAME });
  return sealer.open(row.value, `server_secret:${NAME}`) as string;
}
