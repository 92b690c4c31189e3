import type { Knex } from 'knex';
import { accountModelsInSql, revokeAccountInSql, revokeClientInSql, sqlAdapterFactory } from './sql.ts';
import { accountModelsInRedis, redisAdapterFactory, revokeAccountInRedis, type RedisStore } from './redis.ts';
import { DURABLE_MODELS, type Adapter, type AdapterFactory, type AdapterPayload } from './types.ts';
import { cachedClients } from './client-cache.ts';
import type { Sealer } from '../server/keys/sealed-secrets.ts';
import type { ModelCache } from './model-cache.ts';

/**
 * Clients and registration tokens always live in the database. With Redis
 * configured, everything short-lived (sessions, grants, codes, tokens,
 * interactions) lives in Redis; otherwise in the database too. Clients are
 * also remembered in the process for a few seconds (./client-cache.ts). `cache`
 * only when this process owns the database (the embedded mode, ./model-cache.ts).
 */
export function chooseAdapters(db: Knex, redis: RedisStore | undefined, sealer: Sealer, cache?: ModelCache): AdapterFactory {
  const sql = sqlAdapterFactory(db, sealer, cache);
  const clients = cachedClients(deletingWhatTheClientHeld(db, sql('Client'), cache));
  const fast = redis && redisAdapterFactory(redis.client, redis.prefix, redis.wait);
  return (model) => {
    if (model === 'Client') return clients;
    const adapter = !fast || DURABLE_MODELS.has(model) ? sql(model) : fast(model);
    return PRESENTED_TOKENS.has(model) ? withoutStructuredLookups(adapter) : adapter;
  };
}

/** Models whose ids are token values a client presents (oidc-provider looks them up as given). */
const PRESENTED_TOKENS = new Set(['AccessToken', 'ClientCredentials', 'RefreshToken']);

/**
 * oidc-provider's stored tokens are random base64url ids (nanoid: A–Z a–z 0–9 _ -),
 * never with a dot. Its userinfo looks a presented RFC 9068 JWT up as a stored access
 * token before declining it (server/oidc/structured-token-endpoints.ts answers it):
 * a storage round trip that can only miss, on every userinfo call. A value with a
 * dot is answered "not found" without asking the store.
 */
function withoutStructuredLookups(adapter: Adapter): Adapter {
  return {
    ...adapter,
    find: (id) => (id.includes('.') ? Promise.resolve(undefined) : adapter.find(id)),
  };
}

/**
 * Deleting a client (`enot-id client delete`, RFC 7592 §2.3 DELETE through
 * oidc-provider) deletes its registration access tokens and should invalidate
 * its grants and tokens: one query ends all of them that are stored in the
 * database. In Redis they have no index by client (finding them would take a
 * SCAN of every key) and stay until they expire, unusable: a token whose client
 * is gone is inactive (server/oidc/token-policies.ts, jwt-access-tokens.ts).
 * Rows go first, so a failure leaves a client that can be deleted again.
 */
function deletingWhatTheClientHeld(db: Knex, clients: Adapter, cache?: ModelCache): Adapter {
  return {
    ...clients,
    async destroy(id) {
      await revokeClientInSql(db, id, cache);
      await clients.destroy(id);
    },
  };
}

/** Ends every session and grant of an account (and so its tokens), wherever they are stored. */
export function accountRevoker(db: Knex, redis?: RedisStore, cache?: ModelCache) {
  return async (accountId: string): Promise<void> => {
    await Promise.all([
      revokeAccountInSql(db, accountId, cache),
      redis ? revokeAccountInRedis(redis.client, redis.prefix, accountId, redis.wait) : undefined,
    ]);
  };
}

/** Lists an account's live sessions or grants, from wherever they are stored (Redis when configured). */
export function accountModelLister(db: Knex, redis?: RedisStore) {
  return (accountId: string, model: 'Session' | 'Grant'): Promise<{ id: string; payload: AdapterPayload }[]> =>
    redis ? accountModelsInRedis(redis.client, redis.prefix, accountId, model) : accountModelsInSql(db, accountId, model);
}
