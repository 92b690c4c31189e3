// oidc-provider models in Redis, after the layout of oidc-provider's former
// example Redis adapter: `{model}:{id}` holds a hash {payload, consumed} with the
// model's TTL; `grant:{grantId}` (a set of keys), `uid:{uid}` and
// `userCode:{code}` index it. Every call is one round trip: multi-step reads and
// writes run as Lua scripts, which Redis executes atomically.
import type { Redis } from 'ioredis';
import { keptFor, type Adapter, type AdapterPayload } from './types.ts';

// Every model oidc-provider revokes by grant id (lib/helpers/revoke.js).
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'ClientCredentials', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

const scripts = {
  // One round trip and one command per save (a MULTI of the same steps sent a
  // dozen). KEYS: the model key, then the sets that list it, then the index keys
  // that name it; ARGV: payload, TTL in seconds (0: none), how many sets.
  upsert: {
    lua: `local ttl = tonumber(ARGV[2])
local sets = tonumber(ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
for i = 2, sets + 1 do
  redis.call('SADD', KEYS[i], KEYS[1])
  -- A set lives as long as its longest-lived member.
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[i], ttl, 'NX')
    redis.call('EXPIRE', KEYS[i], ttl, 'GT')
  end
end
for i = sets + 2, #KEYS do
  if ttl > 0 then redis.call('SET', KEYS[i], KEYS[1], 'EX', ttl) else redis.call('SET', KEYS[i], KEYS[1]) end
end
return 0`,
  },
  // KEYS[1] index key -> the model key it names -> that hash.
  findByIndex: {
    numberOfKeys: 1,
    lua: `local key = redis.call('GET', KEYS[1])
if not key then return nil end
return redis.call('HGETALL', key)`,
  },
  // Marks consumed without creating a key that has already expired.
  consume: {
    numberOfKeys: 1,
    lua: `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'consumed', ARGV[1]) end
return 0`,
  },
  // Deletes every key recorded under a grant, then the index itself.
  revokeGrant: {
    numberOfKeys: 1,
    lua: `local keys = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(keys) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
return #keys`,
  },
};

type ScriptedRedis = Redis & {
  enotUpsert(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  enotFindByIndex(key: string): Promise<string[] | null>;
  enotConsume(key: string, at: string): Promise<number>;
  enotRevokeGrant(key: string): Promise<number>;
};

function scripted(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.enotFindByIndex !== 'function') {
    redis.defineCommand('enotUpsert', scripts.upsert);
    redis.defineCommand('enotFindByIndex', scripts.findByIndex);
    redis.defineCommand('enotConsume', scripts.consume);
    redis.defineCommand('enotRevokeGrant', scripts.revokeGrant);
  }
  return r;
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

const accountKey = (prefix: string, accountId: string) => `${prefix}account:${accountId}`;

/** Deletes every session, grant, code and token of an account; returns how many keys. */
export async function revokeAccountInRedis(client: Redis, prefix: string, accountId: string): Promise<number> {
  // The same script as for a grant: a set of keys, deleted with the set.
  return scripted(client).enotRevokeGrant(accountKey(prefix, accountId));
}

export function redisAdapterFactory(client: Redis, prefix: string) {
  const redis = scripted(client);
  return (model: string): Adapter => {
    const key = (id: string) => `${prefix}${model}:${id}`;
    const grantKey = (id: string) => `${prefix}grant:${id}`;
    const uidKey = (uid: string) => `${prefix}uid:${uid}`;
    const userCodeKey = (code: string) => `${prefix}userCode:${code}`;

    return {
      async upsert(id, payload, expiresIn) {
        const k = key(id);
        // Sets that list this key: its grant's (RevokeByGrantId) and its account's
        // (a password reset or a blocked account ends every session and grant at once).
        const sets = [
          GRANTABLE.has(model) && payload.grantId ? grantKey(payload.grantId) : undefined,
          payload.accountId ? accountKey(prefix, payload.accountId) : undefined,
        ].filter((s): s is string => !!s);
        const indexes = [payload.userCode && userCodeKey(payload.userCode), payload.uid && uidKey(payload.uid)].filter(
          (s): s is string => !!s,
        );
        await redis.enotUpsert(1 + sets.length + indexes.length, k, ...sets, ...indexes, JSON.stringify(payload), keptFor(model, expiresIn) ?? 0, sets.length);
      },
      async find(id) {
        return fromHash(await redis.hgetall(key(id)));
      },
      async findByUid(uid) {
        return fromHash(await redis.enotFindByIndex(uidKey(uid)));
      },
      async findByUserCode(userCode) {
        return fromHash(await redis.enotFindByIndex(userCodeKey(userCode)));
      },
      async consume(id) {
        await redis.enotConsume(key(id), String(Math.floor(Date.now() / 1000)));
      },
      async destroy(id) {
        await redis.del(key(id));
      },
      async revokeByGrantId(grantId) {
        await redis.enotRevokeGrant(grantKey(grantId));
      },
    };
  };
}
