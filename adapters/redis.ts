// oidc-provider models in Redis, after the layout of oidc-provider's former
// example Redis adapter: `{model}:{id}` holds a hash {payload, consumed} with the
// model's TTL; `grant:{grantId}` (a set of keys), `uid:{uid}` and
// `userCode:{code}` index it. Every call is one round trip: multi-step reads and
// writes run as Lua scripts, which Redis executes atomically.
import type { Redis } from 'ioredis';
import type { Adapter, AdapterPayload } from './types.ts';

// Every model oidc-provider revokes by grant id (lib/helpers/revoke.js).
const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'ClientCredentials', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

const scripts = {
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
  enotFindByIndex(key: string): Promise<string[] | null>;
  enotConsume(key: string, at: string): Promise<number>;
  enotRevokeGrant(key: string): Promise<number>;
};

function scripted(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.enotFindByIndex !== 'function') {
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
        const multi = redis.multi().del(k).hset(k, 'payload', JSON.stringify(payload));
        if (expiresIn) multi.expire(k, expiresIn);
        if (GRANTABLE.has(model) && payload.grantId) {
          const g = grantKey(payload.grantId);
          multi.sadd(g, k);
          // The index lives as long as its longest-lived member.
          if (expiresIn) multi.expire(g, expiresIn, 'NX').expire(g, expiresIn, 'GT');
        }
        if (payload.accountId) {
          // Lets a password reset or a blocked account end every session and grant at once.
          const a = accountKey(prefix, payload.accountId);
          multi.sadd(a, k);
          if (expiresIn) multi.expire(a, expiresIn, 'NX').expire(a, expiresIn, 'GT');
        }
        for (const index of [payload.userCode && userCodeKey(payload.userCode), payload.uid && uidKey(payload.uid)]) {
          if (!index) continue;
          if (expiresIn) multi.set(index, k, 'EX', expiresIn);
          else multi.set(index, k);
        }
        await multi.exec();
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
