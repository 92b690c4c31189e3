// oidc-provider models in Redis, after the layout of oidc-provider's former
// example Redis adapter: `{model}:{id}` holds a hash {payload, consumed} with the
// model's TTL; `grant:{grantId}` and `account:{accountId}` (sets of keys), `uid:{uid}`
// and `userCode:{code}` (the key they name) index it.
//
// Redis Cluster (README, "Redis beyond one node"): every key hashes to its own slot,
// so no command or script touches two keys; each step is one single-key command and
// the steps of one call leave in the same tick (ioredis auto-pipelining: one round
// trip on one Redis, one per node in a Cluster). The same layout and code run on one
// Redis, a Sentinel primary and a Cluster. Order where it matters:
// - a save lists the key in its sets before writing it (on one connection commands
//   run in order), so a revocation that reads the set never misses a saved key;
// - a revocation takes its set and deletes it in one step (one key, atomic), then
//   deletes the members: a key saved meanwhile goes into a new set, and its grant
//   is gone, which oidc-provider checks on every use of a token.
import type { RedisClient } from '../server/redis/connect.ts';
import { awaitReplicas, type ReplicaWait } from './redis-replicas.ts';
import { keptFor, type Adapter, type AdapterPayload } from './types.ts';

// Every model oidc-provider revokes by grant id (lib/helpers/revoke.js).
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'ClientCredentials', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

// Each script reads and writes only KEYS[1].
const scripts = {
  // Replaces the hash: no field of an earlier save (consumed) survives. ARGV: payload, TTL in seconds (0: none).
  write: {
    numberOfKeys: 1,
    lua: `redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 0`,
  },
  // Lists a key in a set that lives as long as its longest-lived member. ARGV: member, TTL (0: none).
  list: {
    numberOfKeys: 1,
    lua: `redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl, 'NX')
  redis.call('EXPIRE', KEYS[1], ttl, 'GT')
end
return 0`,
  },
  // Marks consumed without creating a key that has already expired.
  consume: {
    numberOfKeys: 1,
    lua: `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'consumed', ARGV[1]) end
return 0`,
  },
  // The members of a set, and the set deleted in the same step.
  take: {
    numberOfKeys: 1,
    lua: `local keys = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return keys`,
  },
};

type ScriptedRedis = RedisClient & {
  enotWrite(key: string, payload: string, ttl: number): Promise<number>;
  enotList(key: string, member: string, ttl: number): Promise<number>;
  enotConsume(key: string, at: string): Promise<number>;
  enotTake(key: string): Promise<string[]>;
};

function scripted(redis: RedisClient): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.enotWrite !== 'function') {
    redis.defineCommand('enotWrite', scripts.write);
    redis.defineCommand('enotList', scripts.list);
    redis.defineCommand('enotConsume', scripts.consume);
    redis.defineCommand('enotTake', scripts.take);
  }
  return r;
}

/** Deletes a set and every key it lists; returns how many keys it listed. */
async function deleteListed(redis: ScriptedRedis, setKey: string, wait: ReplicaWait | undefined): Promise<number> {
  const keys = await redis.enotTake(setKey);
  // One DEL per key: in a Cluster the keys live in different slots.
  await Promise.all(keys.map((key) => redis.del(key)));
  await awaitReplicas(redis, [setKey, ...keys], wait);
  return keys.length;
}

function fromHash(flat: string[] | Record<string, string> | null): AdapterPayload | undefined {
  if (!flat) return undefined;
  const hash: Record<string, string> = Array.isArray(flat)
    ? Object.fromEntries(flat.flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]!]] : [])))
    : flat;
  if (!hash.payload) return undefined;
  const payload = JSON.parse(hash.payload) as AdapterPayload;
  if (hash.consumed) payload.consumed = Number(hash.consumed);
  return payload;
}

/** Where the adapters keep their keys (server/runtime.ts). */
export interface RedisStore {
  client: RedisClient;
  /** REDIS_PREFIX. */
  prefix: string;
  /** REDIS_WAIT_REPLICAS and its deadline. */
  wait?: ReplicaWait;
}

const accountKey = (prefix: string, accountId: string) => `${prefix}account:${accountId}`;

/** Deletes every session, grant, code and token of an account; returns how many keys. */
export async function revokeAccountInRedis(client: RedisClient, prefix: string, accountId: string, wait?: ReplicaWait): Promise<number> {
  // As for a grant: a set of keys, deleted with the set.
  return deleteListed(scripted(client), accountKey(prefix, accountId), wait);
}

/** `wait`: replicas that must confirm each write (adapters/redis-replicas.ts, REDIS_WAIT_REPLICAS). */
export function redisAdapterFactory(client: RedisClient, prefix: string, wait?: ReplicaWait) {
  const redis = scripted(client);
  return (model: string): Adapter => {
    const key = (id: string) => `${prefix}${model}:${id}`;
    const grantKey = (id: string) => `${prefix}grant:${id}`;
    const uidKey = (uid: string) => `${prefix}uid:${uid}`;
    const userCodeKey = (code: string) => `${prefix}userCode:${code}`;
    // Two steps: the index and the key it names are in different slots.
    const findByIndex = async (index: string) => {
      const named = await redis.get(index);
      return named ? fromHash(await redis.hgetall(named)) : undefined;
    };

    return {
      async upsert(id, payload, expiresIn) {
        const k = key(id);
        const ttl = keptFor(model, expiresIn) ?? 0;
        // Sets that list this key: its grant's (RevokeByGrantId) and its account's
        // (a password reset or a blocked account ends every session and grant at once).
        const sets = [
          GRANTABLE.has(model) && payload.grantId ? grantKey(payload.grantId) : undefined,
          payload.accountId ? accountKey(prefix, payload.accountId) : undefined,
        ].filter((s): s is string => !!s);
        const indexes = [payload.userCode && userCodeKey(payload.userCode), payload.uid && uidKey(payload.uid)].filter(
          (s): s is string => !!s,
        );
        // Issued in this order in one tick (see the top of this file).
        await Promise.all([
          ...sets.map((set) => redis.enotList(set, k, ttl)),
          redis.enotWrite(k, JSON.stringify(payload), ttl),
          ...indexes.map((index) => (ttl > 0 ? redis.set(index, k, 'EX', ttl) : redis.set(index, k))),
        ]);
        await awaitReplicas(redis, [...sets, k, ...indexes], wait);
      },
      async find(id) {
        return fromHash(await redis.hgetall(key(id)));
      },
      async findByUid(uid) {
        return findByIndex(uidKey(uid));
      },
      async findByUserCode(userCode) {
        return findByIndex(userCodeKey(userCode));
      },
      async consume(id) {
        await redis.enotConsume(key(id), String(Math.floor(Date.now() / 1000)));
        await awaitReplicas(redis, [key(id)], wait);
      },
      async destroy(id) {
        await redis.del(key(id));
        await awaitReplicas(redis, [key(id)], wait);
      },
      async revokeByGrantId(grantId) {
        await deleteListed(redis, grantKey(grantId), wait);
      },
    };
  };
}

/**
 * The live sessions or grants of an account in Redis: the members of its
 * account set (kept for revocation) of this model; expired ones are gone.
 */
export async function accountModelsInRedis(client: RedisClient, prefix: string, accountId: string, model: 'Session' | 'Grant'): Promise<{ id: string; payload: AdapterPayload }[]> {
  const modelPrefix = `${prefix}${model}:`;
  const keys = (await client.smembers(accountKey(prefix, accountId))).filter((k) => k.startsWith(modelPrefix)).sort().slice(0, 1000);
  const hashes = await Promise.all(keys.map((k) => client.hgetall(k)));
  return keys.flatMap((k, i) => {
    const payload = fromHash(hashes[i] ?? null);
    return payload ? [{ id: k.slice(modelPrefix.length), payload }] : [];
  });
}
