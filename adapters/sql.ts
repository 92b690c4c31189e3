// oidc-provider models in PostgreSQL (DATABASE_URL or the embedded one): one row per instance in
// `oidc_models`, clients in `clients`. Expiry is enforced on read and rows are
// purged periodically, so a read is always one query. Device codes are kept a
// while past their expiry (keptFor in ./types.ts).
import type { Knex } from 'knex';
import type { Adapter, AdapterPayload } from './types.ts';
import { epochSeconds, keptFor } from './types.ts';
import { deletedCount } from '../server/db/deleted-count.ts';
import { createSealer, type Sealer } from '../server/keys/sealed-secrets.ts';
import type { ModelCache } from './model-cache.ts';

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
  expires_at: Date | null;
}

function withConsumed(row: Row | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  return row.consumed_at ? { ...row.payload, consumed: epochSeconds(row.consumed_at) } : row.payload;
}

// PostgreSQL text cannot hold NUL, so no stored key contains one; looking one up
// (a client_id of "%00" from a request) would be an error (22021), not "not found".
const storable = (key: unknown) => typeof key !== 'string' || !key.includes('\u0000');

/**
 * Clients, with `client_secret` sealed at rest when SECRETS_KEY is set
 * (server/keys/sealed-secrets.ts). Encrypted, not hashed: oidc-provider compares
 * the secret itself and derives HS256 keys from it (client_secret_jwt, RFC 7523;
 * OIDC Core §10.1 symmetric signatures), so a hash could not serve them.
 */
function clientAdapter(db: Knex, sealer: Sealer): Adapter {
  const stored = (id: string, payload: AdapterPayload) =>
    JSON.stringify(payload.client_secret === undefined ? payload : { ...payload, client_secret: sealer.seal(payload.client_secret, `client_secret:${id}`) });
  return {
    async upsert(id, payload) {
      const value = stored(id, payload);
      await db('clients')
        .insert({ id, payload: value })
        .onConflict('id')
        .merge({ payload: value, updated_at: db.fn.now() });
    },
    async find(id) {
      if (!storable(id)) return undefined;
      const row = await db('clients').first('payload').where({ id });
      const payload = row?.payload as AdapterPayload | undefined;
      if (payload?.client_secret === undefined) return payload;
      return { ...payload, client_secret: sealer.open(payload.client_secret, `client_secret:${id}`) as string };
    },
    async destroy(id) {
      await db('clients').where({ id }).delete();
    },
    async findByUid() { return undefined; },
    async findByUserCode() { return undefined; },
    async consume() {},
    async revokeByGrantId() {},
  };
}

function modelAdapter(db: Knex, model: string, cache?: ModelCache): Adapter {
  const live = () =>
    db('oidc_models')
      .first<Row>('payload', 'consumed_at', 'expires_at')
      .where({ model })
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()));

  /** A row read by id: from the cache when this process owns the database (./model-cache.ts). */
  async function readById(id: string): Promise<AdapterPayload | undefined> {
    const cached = cache?.read(model, id);
    if (cached === 'none') return undefined;
    if (cached) return cached.consumedAt === null ? cached.payload : { ...cached.payload, consumed: epochSeconds(cached.consumedAt) };
    const version = cache?.version();
    const row = await live().andWhere({ id });
    if (cache && version !== undefined) {
      if (!row) cache.fillAbsent(model, id, version);
      else {
        cache.fill(model, id, version, {
          json: JSON.stringify(row.payload),
          grantId: typeof row.payload.grantId === 'string' ? row.payload.grantId : undefined,
          expiresAt: row.expires_at ? new Date(row.expires_at).getTime() : null,
          consumedAt: row.consumed_at ? new Date(row.consumed_at).getTime() : null,
        });
      }
    }
    return withConsumed(row);
  }

  return {
    async upsert(id, payload, expiresIn) {
      const lifetime = keptFor(model, expiresIn);
      const json = JSON.stringify(payload);
      const expiresAt = lifetime ? Date.now() + lifetime * 1000 : null;
      const row = {
        model,
        id,
        payload: json,
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresAt === null ? null : new Date(expiresAt),
        consumed_at: null,
      };
      await db('oidc_models').insert(row).onConflict(['model', 'id']).merge();
      cache?.wrote(model, id, { json, grantId: payload.grantId ?? undefined, expiresAt });
    },
    async find(id) {
      if (!storable(id)) return undefined;
      return readById(id);
    },
    async findByUid(uid) {
      if (!storable(uid)) return undefined;
      return withConsumed(await live().andWhere({ uid }));
    },
    async findByUserCode(userCode) {
      if (!storable(userCode)) return undefined;
      return withConsumed(await live().andWhere({ user_code: userCode }));
    },
    async consume(id) {
      await db('oidc_models').where({ model, id }).update({ consumed_at: db.fn.now() });
      cache?.consumed(model, id, Date.now());
    },
    async destroy(id) {
      await db('oidc_models').where({ model, id }).delete();
      cache?.deleted(model, id);
    },
    async revokeByGrantId(grantId) {
      await db('oidc_models').where({ model, grant_id: grantId }).delete();
      cache?.grantDeleted(model, grantId);
    },
  };
}

/** `cache` only when this process owns the database (the embedded mode, ./model-cache.ts). */
export function sqlAdapterFactory(db: Knex, sealer: Sealer = createSealer(undefined), cache?: ModelCache) {
  return (model: string): Adapter => (model === 'Client' ? clientAdapter(db, sealer) : modelAdapter(db, model, cache));
}

/** Deletes expired rows; returns how many. Run periodically by every process (idempotent). */
export async function purgeExpiredModels(db: Knex): Promise<number> {
  return deletedCount(await db('oidc_models').where('expires_at', '<', db.fn.now()).delete());
}

/** Deletes every session, grant, code and token of an account; returns how many rows. */
export async function revokeAccountInSql(db: Knex, accountId: string, cache?: ModelCache): Promise<number> {
  const deleted = deletedCount(await db('oidc_models').whereRaw(`payload->>'accountId' = ?`, [accountId]).delete());
  cache?.clear();
  return deleted;
}

/**
 * Deletes every row that belongs to a client (oidc-provider keeps `clientId` in
 * the payload of its grants, codes, tokens and registration access tokens);
 * returns how many. Rows that live in Redis are not touched.
 */
export async function revokeClientInSql(db: Knex, clientId: string, cache?: ModelCache): Promise<number> {
  const deleted = deletedCount(await db('oidc_models').whereRaw(`payload->>'clientId' = ?`, [clientId]).delete());
  cache?.clear();
  return deleted;
}

/** The live sessions or grants of an account stored in the database (the admin API lists them). */
export async function accountModelsInSql(db: Knex, accountId: string, model: 'Session' | 'Grant'): Promise<{ id: string; payload: AdapterPayload }[]> {
  const rows = await db('oidc_models')
    .select('id', 'payload')
    .where({ model })
    .whereRaw(`payload->>'accountId' = ?`, [accountId])
    .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
    .orderBy('id')
    .limit(1000);
  return rows.map((r: { id: string; payload: AdapterPayload }) => ({ id: r.id, payload: r.payload }));
}
