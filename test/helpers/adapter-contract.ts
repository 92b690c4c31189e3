// The oidc-provider adapter contract (see oidc-provider's example/my_adapter.js), as
// ava tests registered by the file that calls registerContract: test/adapters.test.ts
// runs it on every storage of this machine, test/redis-topologies.test.ts on a Redis
// Cluster and a Sentinel set.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { RedisClient } from '../../server/redis/connect.ts';
import { purgeExpiredModels, sqlAdapterFactory } from '../../adapters/sql.ts';
import type { ModelCache } from '../../adapters/model-cache.ts';
import { redisAdapterFactory } from '../../adapters/redis.ts';
import type { ReplicaWait } from '../../adapters/redis-replicas.ts';
import { cachedClients, CLIENT_CACHE_TTL_MS } from '../../adapters/client-cache.ts';
import { DEVICE_CODE_GRACE_SECONDS, EXPIRED_GRANT_SOURCE_GRACE_SECONDS, type AdapterFactory, type AdapterPayload } from '../../adapters/types.ts';

export const newId = (label = 'id') => `${label}-${randomBytes(9).toString('base64url')}`;
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const nowSeconds = () => Math.floor(Date.now() / 1000);
/** Long enough to outlive the test run. */
export const LIVE = 3600;
/** Waited after upserting with expiresIn=1 before checking that it expired. */
export const EXPIRY_WAIT_MS = 1600;

/** Models oidc-provider revokes by grant id (lib/helpers/revoke.js). */
export const GRANT_MODELS = [
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
];

export interface Store {
  factory: AdapterFactory;
  /** Whether the instance is physically stored, regardless of expiry. */
  stored(model: string, id: string): Promise<boolean>;
  /** Seconds until storage drops the instance (SQL: its expires_at; Redis: the key's TTL). */
  keptSeconds(model: string, id: string): Promise<number>;
  /** SQL: purgeExpiredModels. Redis needs none: expired keys go by themselves. */
  purge?: () => Promise<number>;
}

/** A backend set up in test.before and torn down in test.after.always. */
export class Slot<T> {
  value: T | undefined;
  get(): T {
    if (this.value === undefined) throw new Error('backend was not set up (see the failed before hook)');
    return this.value;
  }
}

/** `cache`: the embedded mode's in-process model cache in front of the database (adapters/model-cache.ts). */
export function sqlStore(db: Knex, cache?: ModelCache): Store {
  return {
    factory: sqlAdapterFactory(db, undefined, cache),
    purge: () => purgeExpiredModels(db),
    async keptSeconds(model, id) {
      const row = await db('oidc_models').first('expires_at').where({ model, id });
      return (new Date(row.expires_at).getTime() - Date.now()) / 1000;
    },
    async stored(model, id) {
      const row = model === 'Client'
        ? await db('clients').first('id').where({ id })
        : await db('oidc_models').first('id').where({ model, id });
      return row !== undefined;
    },
  };
}

export function redisStore(redis: RedisClient, prefix: string, wait?: ReplicaWait): Store {
  return {
    factory: redisAdapterFactory(redis, prefix, wait),
    keptSeconds: (model, id) => redis.ttl(`${prefix}${model}:${id}`),
    async stored(model, id) {
      return (await redis.exists(`${prefix}${model}:${id}`)) === 1;
    },
  };
}

/** A payload exercising what JSON storage could get wrong. */
export function richPayload(extra: Partial<AdapterPayload> = {}): AdapterPayload {
  return {
    iat: nowSeconds(),
    exp: nowSeconds() + LIVE,
    accountId: 'account-ünïcödé',
    clientId: 'client-1',
    kind: 'AccessToken',
    jti: newId('jti'),
    scope: 'openid email',
    aud: ['https://api.example', 'https://другой.example'],
    amr: [],
    extra: {
      name: 'Ёжик в тумане 🦔 — 日本語 — ﷽ — e\u0301 — "quoted" \\ backslash\nnewline\ttab',
      nested: { deeper: { list: [1, 2.5, -3, 0, true, false, null, 'x', [], {}], empty: {} } },
      emptyList: [],
      big: 2 ** 53 - 1,
    },
    ...extra,
  };
}

export function registerContract(name: string, slot: Slot<Store>) {
  const title = (what: string) => `[${name}] ${what}`;
  const adapter = (model: string) => slot.get().factory(model);
  const stored = (model: string, id: string) => slot.get().stored(model, id);

  test(title('upsert then find returns the same payload'), async (t) => {
    const tokens = adapter('AccessToken');
    const id = newId();
    const payload = richPayload();
    const sent = structuredClone(payload);
    await tokens.upsert(id, payload, LIVE);
    t.deepEqual(payload, sent, 'upsert must not modify the payload it was given');
    const found = await tokens.find(id);
    t.deepEqual(found, sent);
    t.false(found !== undefined && 'consumed' in found, 'an unconsumed instance has no consumed field');
  });

  test(title('upsert again replaces the payload and clears consumed'), async (t) => {
    const grants = adapter('Grant');
    const id = newId();
    await grants.upsert(id, { accountId: 'a', clientId: 'c', stale: 'old', openid: { scope: 'openid email' } }, LIVE);
    await grants.consume(id);
    t.is(typeof (await grants.find(id))?.consumed, 'number');

    const replacement = { accountId: 'a', clientId: 'c', openid: { scope: 'openid' }, rejected: [] };
    await grants.upsert(id, replacement, LIVE);
    t.deepEqual(await grants.find(id), replacement, 'no stale field and no consumed remain');
  });

  test(title('unknown ids, uids and user codes are not found'), async (t) => {
    t.is(await adapter('AccessToken').find(newId()), undefined);
    t.is(await adapter('Session').find(newId()), undefined);
    t.is(await adapter('Session').findByUid(newId('uid')), undefined);
    t.is(await adapter('DeviceCode').findByUserCode(newId('code')), undefined);
    t.is(await adapter('Client').find(newId('client')), undefined);
  });

  // The only test that creates expiring instances: purgeExpiredModels deletes
  // every expired row, so a concurrent test purging would hide whether reads
  // themselves ignore expired rows. Serial (ava runs these before the others):
  // queries of concurrent tests could delay the check made before expiry by more than the 1 s the instances live.
  test.serial(title('expiresIn is honoured by find, findByUid, consume and the purge; device codes are kept past it'), async (t) => {
    const tokens = adapter('AccessToken');
    const sessions = adapter('Session');
    const codes = adapter('DeviceCode');
    const expiring = { token: newId(), session: newId(), code: newId(), uid: newId('uid'), userCode: newId('code') };
    const live = { token: newId(), session: newId(), code: newId(), uid: newId('uid'), userCode: newId('code') };
    const forever = newId();

    await tokens.upsert(forever, richPayload());
    for (const [ids, ttl] of [[live, LIVE], [expiring, 1]] as const) {
      await tokens.upsert(ids.token, richPayload(), ttl);
      await sessions.upsert(ids.session, { uid: ids.uid, accountId: 'a', loginTs: nowSeconds() }, ttl);
      await codes.upsert(ids.code, { userCode: ids.userCode, clientId: 'c', grantId: newId('grant') }, ttl);
    }
    // Present before expiry: what follows is a real change, not a lookup that never worked.
    const present = await Promise.all([
      tokens.find(expiring.token), sessions.findByUid(expiring.uid), codes.findByUserCode(expiring.userCode),
    ]);
    t.deepEqual(present.map((payload) => payload !== undefined), [true, true, true], 'found before expiry');

    await sleep(EXPIRY_WAIT_MS);

    t.is(await tokens.find(expiring.token), undefined, 'expired token');
    t.is(await sessions.find(expiring.session), undefined, 'expired session by id');
    t.is(await sessions.findByUid(expiring.uid), undefined, 'expired session by uid');
    // RFC 8628 §3.5: oidc-provider answers expired_token only for a device code it still finds.
    t.is((await codes.find(expiring.code))?.userCode, expiring.userCode, 'expired device code by id: kept for the grace period');
    t.is((await codes.findByUserCode(expiring.userCode))?.userCode, expiring.userCode, 'expired device code by user code: kept too');

    // consume of an expired instance must not bring it back.
    await tokens.consume(expiring.token);
    t.is(await tokens.find(expiring.token), undefined, 'consume does not revive an expired instance');

    t.not(await tokens.find(live.token), undefined, 'live token');
    t.is((await sessions.findByUid(live.uid))?.uid, live.uid, 'live session by uid');
    t.is((await codes.findByUserCode(live.userCode))?.userCode, live.userCode, 'live device code by user code');
    t.not(await tokens.find(forever), undefined, 'token without expiresIn');

    const stores = [['AccessToken', expiring.token, live.token], ['Session', expiring.session, live.session]] as const;
    const { purge } = slot.get();
    if (purge) {
      for (const [model, id] of stores) t.true(await stored(model, id), `expired ${model} row is kept until purged`);
      t.true((await purge()) >= stores.length, 'purge reports the expired rows it deleted');
    }
    for (const [model, expiredId, liveId] of stores) {
      t.false(await stored(model, expiredId), `expired ${model} is gone from storage`);
      t.true(await stored(model, liveId), `live ${model} is kept`);
    }
    t.true(await stored('AccessToken', forever), 'token without expiresIn is kept');
    t.not(await tokens.find(live.token), undefined, 'live token still found');
    t.true(await stored('DeviceCode', expiring.code), 'an expired device code outlives the purge within its grace period');
  });

  test(title(`device codes are stored DEVICE_CODE_GRACE_SECONDS (${DEVICE_CODE_GRACE_SECONDS} s) longer than they live, other models as long`), async (t) => {
    const [code, token] = [newId(), newId()];
    await adapter('DeviceCode').upsert(code, { userCode: newId('code'), clientId: 'tv' }, 60);
    await adapter('AccessToken').upsert(token, richPayload(), 60);
    const codeKept = await slot.get().keptSeconds('DeviceCode', code);
    const tokenKept = await slot.get().keptSeconds('AccessToken', token);
    t.true(Math.abs(codeKept - (60 + DEVICE_CODE_GRACE_SECONDS)) <= 5, `device code kept ${codeKept} s`);
    t.true(Math.abs(tokenKept - 60) <= 5, `access token kept ${tokenKept} s`);
  });

  test(title(`authorization codes and refresh tokens are stored EXPIRED_GRANT_SOURCE_GRACE_SECONDS (${EXPIRED_GRANT_SOURCE_GRACE_SECONDS} s) longer than they live`), async (t) => {
    const [code, refresh] = [newId(), newId()];
    await adapter('AuthorizationCode').upsert(code, richPayload({ kind: 'AuthorizationCode' }), 60);
    await adapter('RefreshToken').upsert(refresh, richPayload({ kind: 'RefreshToken' }), 60);
    const codeKept = await slot.get().keptSeconds('AuthorizationCode', code);
    const refreshKept = await slot.get().keptSeconds('RefreshToken', refresh);
    t.true(Math.abs(codeKept - (60 + EXPIRED_GRANT_SOURCE_GRACE_SECONDS)) <= 5, `authorization code kept ${codeKept} s`);
    t.true(Math.abs(refreshKept - (60 + EXPIRED_GRANT_SOURCE_GRACE_SECONDS)) <= 5, `refresh token kept ${refreshKept} s`);
  });

  test(title('consume marks the instance consumed at the current epoch second'), async (t) => {
    const codes = adapter('AuthorizationCode');
    const id = newId();
    const payload = richPayload({ kind: 'AuthorizationCode', grantId: newId('grant'), redirectUri: 'https://rp.example/cb' });
    await codes.upsert(id, payload, LIVE);
    const before = nowSeconds();
    await codes.consume(id);
    const after = nowSeconds();

    const found = await codes.find(id);
    t.truthy(found);
    const { consumed, ...rest } = found!;
    t.is(typeof consumed, 'number');
    t.true(Number.isInteger(consumed), `consumed is whole seconds, got ${consumed}`);
    t.true(consumed >= before - 2 && consumed <= after + 2, `consumed ${consumed} is close to now (${before}..${after})`);
    t.deepEqual(rest, payload, 'consume leaves the rest of the payload as it was');
  });

  test(title('consume of an unknown id creates nothing'), async (t) => {
    const codes = adapter('AuthorizationCode');
    const id = newId();
    await codes.consume(id);
    t.is(await codes.find(id), undefined);
    t.false(await stored('AuthorizationCode', id));
  });

  test(title('findByUid finds a session by its uid'), async (t) => {
    const sessions = adapter('Session');
    const [id, uid, otherId, otherUid] = [newId(), newId('uid'), newId(), newId('uid')];
    const payload = {
      uid, jti: id, kind: 'Session', accountId: 'account-1', loginTs: nowSeconds(), amr: ['otp'],
      authorizations: { 'client-1': { sid: newId('sid'), grantId: newId('grant'), persistsLogout: true } },
    };
    await sessions.upsert(id, payload, LIVE);
    await sessions.upsert(otherId, { ...payload, uid: otherUid, jti: otherId, accountId: 'account-2' }, LIVE);

    t.deepEqual(await sessions.findByUid(uid), payload);
    t.is((await sessions.findByUid(otherUid))?.accountId, 'account-2');
    t.is(await sessions.findByUid(newId('uid')), undefined);

    await sessions.consume(id);
    t.is(typeof (await sessions.findByUid(uid))?.consumed, 'number', 'findByUid reports consumed like find');
  });

  test(title('findByUserCode finds a device code by its user code'), async (t) => {
    const codes = adapter('DeviceCode');
    const [id, userCode] = [newId(), newId('CODE')];
    const payload = {
      userCode, kind: 'DeviceCode', clientId: 'tv', grantId: newId('grant'),
      params: { client_id: 'tv', scope: 'openid' }, deviceInfo: { ip: '127.0.0.1', ua: 'TV/1.0 📺' },
    };
    await codes.upsert(id, payload, LIVE);
    await codes.upsert(newId(), { ...payload, userCode: newId('CODE'), clientId: 'other' }, LIVE);

    t.deepEqual(await codes.findByUserCode(userCode), payload);
    t.is(await codes.findByUserCode(newId('CODE')), undefined);
    t.deepEqual(await codes.find(id), payload, 'still found by id');
  });

  test(title('destroy removes the instance'), async (t) => {
    const sessions = adapter('Session');
    const [id, uid, keptId] = [newId(), newId('uid'), newId()];
    await sessions.upsert(id, { uid, accountId: 'a' }, LIVE);
    await sessions.upsert(keptId, { uid: newId('uid'), accountId: 'b' }, LIVE);
    t.true(await stored('Session', id));

    await sessions.destroy(id);
    t.is(await sessions.find(id), undefined);
    t.is(await sessions.findByUid(uid), undefined);
    t.false(await stored('Session', id));
    t.is((await sessions.find(keptId))?.accountId, 'b', 'other instances are untouched');
    await t.notThrowsAsync(sessions.destroy(newId()), 'destroying an unknown id is fine');
  });

  test(title('revokeByGrantId removes every instance of the grant, only of that grant'), async (t) => {
    const accessTokens = adapter('AccessToken');
    const refreshTokens = adapter('RefreshToken');
    const codes = adapter('AuthorizationCode');
    const [revoked, kept] = [newId('grant'), newId('grant')];
    const instances = (grantId: string) => ({
      AccessToken: [newId(), newId(), newId()], RefreshToken: [newId(), newId()], AuthorizationCode: [newId()], grantId,
    });
    const a = instances(revoked);
    const b = instances(kept);
    for (const set of [a, b]) {
      for (const id of set.AccessToken) await accessTokens.upsert(id, richPayload({ grantId: set.grantId }), LIVE);
      // Different lifetimes, as refresh tokens outlive access tokens.
      for (const id of set.RefreshToken) await refreshTokens.upsert(id, richPayload({ grantId: set.grantId, kind: 'RefreshToken' }), LIVE * 24);
      for (const id of set.AuthorizationCode) await codes.upsert(id, richPayload({ grantId: set.grantId, kind: 'AuthorizationCode' }), 60);
    }
    await refreshTokens.consume(a.RefreshToken[0]!);

    // As oidc-provider does: each model's own adapter revokes its instances.
    await Promise.all([accessTokens, refreshTokens, codes].map((m) => m.revokeByGrantId(revoked)));

    const found = async (set: typeof a) => Promise.all([
      ...set.AccessToken.map((id) => accessTokens.find(id)),
      ...set.RefreshToken.map((id) => refreshTokens.find(id)),
      ...set.AuthorizationCode.map((id) => codes.find(id)),
    ]);
    t.deepEqual(await found(a), [undefined, undefined, undefined, undefined, undefined, undefined], 'revoked grant');
    for (const [i, payload] of (await found(b)).entries()) {
      t.is(payload?.grantId, kept, `instance ${i} of the other grant is untouched`);
    }
    await t.notThrowsAsync(accessTokens.revokeByGrantId(newId('grant')), 'revoking an unknown grant is fine');
  });

  test(title('revokeByGrantId works for every model oidc-provider revokes by grant'), async (t) => {
    const grantId = newId('grant');
    const ids = new Map(GRANT_MODELS.map((model) => [model, newId()]));
    for (const [model, id] of ids) await adapter(model).upsert(id, { grantId, kind: model, userCode: newId('code') }, LIVE);
    for (const [model, id] of ids) t.not(await adapter(model).find(id), undefined, `${model} stored`);

    for (const model of GRANT_MODELS) await adapter(model).revokeByGrantId(grantId);

    for (const [model, id] of ids) {
      t.is(await adapter(model).find(id), undefined, `${model} revoked`);
      t.false(await stored(model, id), `${model} deleted`);
    }
  });

  test(title('models are separate namespaces'), async (t) => {
    const accessTokens = adapter('AccessToken');
    const refreshTokens = adapter('RefreshToken');
    const id = newId();
    await accessTokens.upsert(id, { kind: 'AccessToken', grantId: newId('grant') }, LIVE);
    await refreshTokens.upsert(id, { kind: 'RefreshToken', grantId: newId('grant') }, LIVE);
    t.is((await accessTokens.find(id))?.kind, 'AccessToken');
    t.is((await refreshTokens.find(id))?.kind, 'RefreshToken');

    await refreshTokens.consume(id);
    t.is((await accessTokens.find(id))?.consumed, undefined, 'consume touches only its model');

    await accessTokens.destroy(id);
    t.is(await accessTokens.find(id), undefined);
    t.is((await refreshTokens.find(id))?.kind, 'RefreshToken', 'destroy touches only its model');
  });

  test(title('Client instances survive without expiry'), async (t) => {
    const clients = adapter('Client');
    const id = newId('client');
    const metadata: AdapterPayload = {
      client_id: id, client_name: 'Клиент 🚀', redirect_uris: ['https://rp.example/cb'],
      post_logout_redirect_uris: [], grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    };
    await clients.upsert(id, metadata);
    t.deepEqual(await clients.find(id), metadata);
    t.true(await stored('Client', id));

    const renamed = { client_id: id, redirect_uris: ['https://rp.example/other'], client_uri: 'https://rp.example' };
    await clients.upsert(id, renamed);
    t.deepEqual(await clients.find(id), renamed, 'upsert replaces client metadata');

    await clients.destroy(id);
    t.is(await clients.find(id), undefined);
    t.false(await stored('Client', id));
  });
}
