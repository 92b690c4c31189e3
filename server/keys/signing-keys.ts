// Token signing keys, shared by every process through the database.
// ES256 signs by default; RS256 is offered for clients that cannot do ECDSA.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Knex } from 'knex';
import type { Sealer } from './sealed-secrets.ts';

export const SIGNING_ALGORITHMS = ['ES256', 'RS256'] as const;
type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

// Serialises key creation across processes starting at the same time.
const KEYS_LOCK = 0x656e6f74; // "enot"

async function newSigningKey(alg: SigningAlgorithm, sealer: Sealer) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const jwk = await exportJWK(privateKey);
  const kid = `${alg.toLowerCase()}-${randomUUID()}`;
  return { kid, alg, jwk: JSON.stringify(sealer.seal({ ...jwk, kid, alg, use: 'sig' }, `signing_key:${kid}`)) };
}

async function insertMissingActiveKeys(trx: Knex.Transaction, sealer: Sealer): Promise<void> {
  const active = await trx('signing_keys').select('alg').whereNull('retired_at');
  const have = new Set(active.map((k) => k.alg as string));
  for (const alg of SIGNING_ALGORITHMS) {
    if (!have.has(alg)) await trx('signing_keys').insert(await newSigningKey(alg, sealer));
  }
}

/**
 * The private JWKS for oidc-provider: active keys first (they sign), then
 * retired keys still published for verification until `expires_at`.
 * Creates the active keys on first start.
 */
export async function loadSigningKeys(db: Knex, sealer: Sealer): Promise<JWK[]> {
  await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [KEYS_LOCK]);
    await insertMissingActiveKeys(trx, sealer);
  });
  const rows = await db('signing_keys')
    .select('kid', 'jwk', 'retired_at')
    .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
    .orderByRaw('retired_at is not null, array_position(?::text[], alg), created_at desc', [[...SIGNING_ALGORITHMS]]);
  return rows.map((r) => sealer.open(r.jwk, `signing_key:${r.kid as string}`) as JWK);
}

/**
 * Retires the active keys and creates new ones. A retired key stays in JWKS for
 * `keepSeconds` (the longest lifetime of anything it signed), then disappears.
 * Returns the new kids.
 */
export async function rotateSigningKeys(db: Knex, sealer: Sealer, keepSeconds: number): Promise<{ retired: string[]; created: string[] }> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [KEYS_LOCK]);
    const retired = await trx('signing_keys')
      .whereNull('retired_at')
      .update({
        retired_at: trx.fn.now(),
        expires_at: trx.raw(`now() + make_interval(secs => ?)`, [keepSeconds]),
      })
      .returning('kid');
    await insertMissingActiveKeys(trx, sealer);
    const created = await trx('signing_keys').select('kid').whereNull('retired_at');
    return { retired: retired.map((r) => r.kid as string), created: created.map((r) => r.kid as string) };
  });
}

/** A fingerprint of the current key set, to notice a rotation made by another process. */
export async function signingKeysVersion(db: Knex): Promise<string> {
  const row = await db('signing_keys')
    .first(db.raw(`coalesce(string_agg(kid || ':' || coalesce(expires_at::text, ''), ',' order by kid), '') as version`))
    .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()));
  return String(row?.version ?? '');
}
