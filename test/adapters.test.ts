// One oidc-provider adapter contract (test/helpers/adapter-contract.ts),
// run against every storage available: the SQL adapter on the embedded
// PostgreSQL (always), on PostgreSQL (when DATABASE_URL is set) and the Redis adapter
// (when REDIS_URL is set). Every backend is set up once for the whole file;
// tests use random ids so they can run concurrently on the same backend.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import type { RedisClient } from '../server/redis/connect.ts';
import { connectDatabase, openDatabase } from '../server/db/connect.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { connectRedis } from '../server/redis/connect.ts';
import { sqlAdapterFactory } from '../adapters/sql.ts';
import { chooseAdapters } from '../adapters/index.ts';
import { createSealer } from '../server/keys/sealed-secrets.ts';
import { cachedClients, CLIENT_CACHE_TTL_MS } from '../adapters/client-cache.ts';
import { createModelCache } from '../adapters/model-cache.ts';
import { accountRevoker } from '../adapters/index.ts';
import { LIVE, newId, redisStore, registerContract, Slot, sqlStore, type Store } from './helpers/adapter-contract.ts';
import { deleteKeysByPrefix } from './helpers/redis-keys.ts';

const runId = randomBytes(6).toString('hex');

/** SQL-only checks: where rows are stored. */
function registerSqlChecks(name: string, slot: Slot<Knex>) {
  const title = (what: string) => `[${name}] ${what}`;

  test(title('Client instances live in the clients table'), async (t) => {
    const db = slot.get();
    const clients = sqlAdapterFactory(db)('Client');
    const id = newId('client');
    await clients.upsert(id, { client_id: id, redirect_uris: ['https://rp.example/cb'] });
    const row = await db('clients').first('id', 'payload').where({ id });
    t.is(row?.id, id);
    t.deepEqual(row?.payload, { client_id: id, redirect_uris: ['https://rp.example/cb'] });
    t.is(await db('oidc_models').first('id').where({ id }), undefined, 'not in oidc_models');
  });

  test(title('clients are remembered for the cache TTL; changes through the adapter are seen at once'), async (t) => {
    const db = slot.get();
    let clock = 1_000_000;
    const clients = cachedClients(sqlAdapterFactory(db)('Client'), CLIENT_CACHE_TTL_MS, () => clock);
    const id = newId('client');
    const changedElsewhere = (name: string) =>
      db('clients').where({ id }).update({ payload: JSON.stringify({ client_id: id, client_name: name }) });

    t.is(await clients.find(id), undefined, 'unknown');
    // Another process registers it: an unknown id is not remembered, so it works at once.
    await db('clients').insert({ id, payload: JSON.stringify({ client_id: id, client_name: 'one' }) });
    t.is((await clients.find(id))?.client_name, 'one');

    // Another process changes it: seen only after the TTL.
    await changedElsewhere('two');
    clock += CLIENT_CACHE_TTL_MS - 1;
    t.is((await clients.find(id))?.client_name, 'one', 'within the TTL: remembered');
    clock += 2;
    t.is((await clients.find(id))?.client_name, 'two', 'after the TTL: read again');

    // Every caller shares the remembered object, so none may change it.
    const shared = await clients.find(id);
    t.throws(() => {
      shared!.client_name = 'mutated';
    }, { instanceOf: TypeError });
    t.is((await clients.find(id))?.client_name, 'two');

    // Changes through this adapter are seen at once.
    await clients.upsert(id, { client_id: id, client_name: 'three' });
    t.is((await clients.find(id))?.client_name, 'three');
    await clients.destroy(id);
    t.is(await clients.find(id), undefined, 'destroyed');

    // Another process deletes it: gone after the TTL.
    await clients.upsert(id, { client_id: id, client_name: 'four' });
    await clients.find(id);
    await db('clients').where({ id }).delete();
    t.is((await clients.find(id))?.client_name, 'four', 'within the TTL');
    clock += CLIENT_CACHE_TTL_MS + 1;
    t.is(await clients.find(id), undefined, 'after the TTL');
  });
}

/**
 * The embedded mode's model cache (adapters/model-cache.ts): reads it can answer do not
 * reach the database, and nothing the database no longer holds is answered from it.
 */
function registerModelCacheChecks(slot: Slot<Knex>) {
  const title = (what: string) => `[sql/embedded+model cache] ${what}`;
  /** Counts the statements this knex sends from now on. */
  function countQueries(db: Knex) {
    let n = 0;
    const listener = () => n++;
    db.on('query', listener);
    return { get count() { return n; }, stop: () => db.off('query', listener) };
  }

  test(title('what this process wrote is read back without a query, each read its own copy'), async (t) => {
    const db = slot.get();
    const grants = sqlAdapterFactory(db, undefined, createModelCache())('Grant');
    const id = newId();
    await grants.upsert(id, { accountId: 'a', clientId: 'c', openid: { scope: 'openid' } }, LIVE);
    const queries = countQueries(db);
    const first = await grants.find(id);
    (first!.openid as { scope: string }).scope = 'changed by a caller';
    const second = await grants.find(id);
    queries.stop();
    t.is(queries.count, 0, 'both reads answered from memory');
    t.deepEqual(second, { accountId: 'a', clientId: 'c', openid: { scope: 'openid' } }, 'a caller changing its copy changes nothing stored');
  });

  test(title('a read that was in flight during a delete does not bring the row back'), async (t) => {
    const db = slot.get();
    const cache = createModelCache();
    const tokens = sqlAdapterFactory(db, undefined, cache)('AccessToken');
    const id = newId();
    // Written by another adapter instance (as before a restart): not in this cache.
    await sqlAdapterFactory(db)('AccessToken').upsert(id, { accountId: 'a', clientId: 'c', grantId: 'g' }, LIVE);
    // The read starts, then the revocation deletes the row and finishes first.
    const version = cache.version();
    const inFlight = await db('oidc_models').first('payload', 'consumed_at', 'expires_at').where({ model: 'AccessToken', id });
    await tokens.destroy(id);
    cache.fill('AccessToken', id, version, { json: JSON.stringify(inFlight.payload), grantId: 'g', expiresAt: null, consumedAt: null });
    t.is(await tokens.find(id), undefined, 'the stale read was not kept');
    t.false(await db('oidc_models').first('id').where({ model: 'AccessToken', id }).then(Boolean));
  });

  test(title('revoking a grant, an account or a client ends what the cache remembered'), async (t) => {
    const db = slot.get();
    const cache = createModelCache();
    const adapters = sqlAdapterFactory(db, undefined, cache);
    const [grantId, accountId, clientId] = [newId('grant'), newId('account'), newId('client')];
    const [byGrant, byAccount, byClient, kept] = [newId(), newId(), newId(), newId()];
    await adapters('AccessToken').upsert(byGrant, { accountId: 'x', clientId: 'x', grantId }, LIVE);
    await adapters('AccessToken').upsert(byAccount, { accountId, clientId: 'x', grantId: 'other' }, LIVE);
    await adapters('RefreshToken').upsert(byClient, { accountId: 'y', clientId, grantId: 'other2' }, LIVE);
    await adapters('Session').upsert(kept, { accountId: 'z', uid: newId('uid') }, LIVE);

    await adapters('AccessToken').revokeByGrantId(grantId);
    t.is(await adapters('AccessToken').find(byGrant), undefined, 'revoked with its grant');
    t.truthy(await adapters('AccessToken').find(byAccount), 'another grant untouched');

    await accountRevoker(db, undefined, cache)(accountId);
    t.is(await adapters('AccessToken').find(byAccount), undefined, "revoked with the account's sessions and grants");

    const clients = chooseAdapters(db, undefined, createSealer(undefined), cache)('Client');
    await clients.upsert(clientId, { client_id: clientId });
    await clients.destroy(clientId);
    t.is(await adapters('RefreshToken').find(byClient), undefined, 'gone with its client');
    t.is((await adapters('Session').find(kept))?.accountId, 'z', 'unrelated rows still read');
  });

  test(title('absence is remembered until this process writes the row; made-up ids push out no row'), async (t) => {
    const db = slot.get();
    const cache = createModelCache(2, 2);
    const revoked = sqlAdapterFactory(db, undefined, cache)('RevokedAccessToken');
    const [jti, kept] = [newId(), newId()];
    await revoked.upsert(kept, { jti: kept }, LIVE);
    t.is(await revoked.find(jti), undefined);
    const queries = countQueries(db);
    t.is(await revoked.find(jti), undefined, 'known absent');
    t.is(queries.count, 0, 'answered from memory');
    await revoked.upsert(jti, { jti }, LIVE);
    t.deepEqual(await revoked.find(jti), { jti }, 'the write ends the absence');
    for (let i = 0; i < 10; i++) await revoked.find(newId());
    queries.stop();
    t.truthy(cache.read('RevokedAccessToken', kept), 'rows stay while made-up ids come and go');
  });

  test(title('holds at most its bound; the least recently used go first'), async (t) => {
    const db = slot.get();
    const cache = createModelCache(3);
    const sessions = sqlAdapterFactory(db, undefined, cache)('Session');
    const ids = [newId(), newId(), newId(), newId()];
    for (const id of ids.slice(0, 3)) await sessions.upsert(id, { accountId: id }, LIVE);
    await sessions.find(ids[0]!); // used: now the most recent
    await sessions.upsert(ids[3]!, { accountId: ids[3] }, LIVE);
    t.is(cache.size, 3);
    t.is(cache.read('Session', ids[1]!), undefined, 'the least recently used was dropped');
    t.truthy(cache.read('Session', ids[0]!), 'the one read since is kept');
    t.is((await sessions.find(ids[1]!))?.accountId, ids[1], 'a dropped row is read from the database again');
  });
}

// ---------------------------------------------------------------- backends --

// The embedded PostgreSQL under a DATA_DIR of its own (server/db/embedded-postgres.ts).
const embedded = new Slot<{ close(): Promise<void>; dir: string }>();
const embeddedDb = new Slot<Knex>();
const embeddedStore = new Slot<Store>();
const embeddedCachedStore = new Slot<Store>();

test.before('embedded PostgreSQL', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enot-adapters-'));
  const { db, close } = await openDatabase({ dataDir: dir, databaseSchema: 'public', databaseUrl: undefined });
  embedded.value = { close, dir };
  await migrateToLatest(db);
  embeddedDb.value = db;
  embeddedStore.value = sqlStore(db);
  // The embedded mode's adapters: the same database behind the in-process model cache.
  embeddedCachedStore.value = sqlStore(db, createModelCache());
});

test.after.always('embedded PostgreSQL', async () => {
  if (!embedded.value) return;
  await embedded.value.close();
  await rm(embedded.value.dir, { recursive: true, force: true });
});

registerContract('sql/embedded', embeddedStore);
registerContract('sql/embedded+model cache', embeddedCachedStore);
registerSqlChecks('sql/embedded', embeddedDb);
registerModelCacheChecks(embeddedDb);

const databaseUrl = process.env.DATABASE_URL;
// A URL without a user name (postgres://host/db) means the OS user to libpq,
// but node-pg reads it from $USER, which some shells and CI runners leave unset.
if (databaseUrl && !process.env.PGUSER && !process.env.USER) process.env.PGUSER = os.userInfo().username;
const postgres = new Slot<Knex>();
const postgresStore = new Slot<Store>();
const schema = `t_${runId}`;

if (databaseUrl) {
  test.before('PostgreSQL', async () => {
    const db = await connectDatabase({ databaseUrl, databaseSchema: schema });
    postgres.value = db;
    await migrateToLatest(db);
    postgresStore.value = sqlStore(db);
  });

  test.after.always('PostgreSQL', async () => {
    if (!postgres.value) return;
    try {
      await postgres.value.raw('drop schema if exists ?? cascade', [schema]);
    } finally {
      await postgres.value.destroy();
    }
  });

  registerContract('sql/postgres', postgresStore);
  registerSqlChecks('sql/postgres', postgres);
}

const redisUrl = process.env.REDIS_URL;
const redisPrefix = `t:${runId}:`;
const redis = new Slot<RedisClient>();
const redisStoreSlot = new Slot<Store>();

if (redisUrl) {
  test.before('Redis', async () => {
    redis.value = await connectRedis(redisUrl);
    redisStoreSlot.value = redisStore(redis.value, redisPrefix);
  });

  test.after.always('Redis', async () => {
    if (!redis.value) return;
    try {
      await deleteKeysByPrefix(redis.value, redisPrefix);
    } finally {
      await redis.value.quit();
    }
  });

  registerContract('redis', redisStoreSlot);

  test('[redis] upsert sets the TTL of the key and its indexes', async (t) => {
    const r = redis.get();
    const sessions = redisStoreSlot.get().factory('Session');
    const [id, uid] = [newId(), newId('uid')];
    await sessions.upsert(id, { uid, accountId: 'a' }, 600);
    for (const key of [`${redisPrefix}Session:${id}`, `${redisPrefix}uid:${uid}`]) {
      const ttl = await r.ttl(key);
      t.true(ttl > 590 && ttl <= 600, `${key} ttl ${ttl}`);
    }
    const clientId = newId('client');
    await redisStoreSlot.get().factory('Client').upsert(clientId, { client_id: clientId });
    t.is(await r.ttl(`${redisPrefix}Client:${clientId}`), -1, 'no expiresIn: the key never expires');
  });
}

if (databaseUrl && redisUrl) {
  const comboPrefix = `${redisPrefix}combo:`;

  test('[sql/postgres + redis] chooseAdapters keeps clients in SQL and sessions in Redis', async (t) => {
    const db = postgres.get();
    const r = redis.get();
    const adapters = chooseAdapters(db, { client: r, prefix: comboPrefix }, createSealer(undefined));

    const clientId = newId('client');
    await adapters('Client').upsert(clientId, { client_id: clientId, redirect_uris: ['https://rp.example/cb'] });
    t.is((await db('clients').first('id').where({ id: clientId }))?.id, clientId, 'Client row in clients');
    t.deepEqual(await r.keys(`${comboPrefix}*${clientId}*`), [], 'no Client key in Redis');

    const registrationToken = newId();
    await adapters('RegistrationAccessToken').upsert(registrationToken, { clientId }, LIVE);
    t.truthy(await db('oidc_models').first('id').where({ model: 'RegistrationAccessToken', id: registrationToken }));

    const [sessionId, uid] = [newId(), newId('uid')];
    await adapters('Session').upsert(sessionId, { uid, accountId: 'a' }, LIVE);
    t.is(await r.exists(`${comboPrefix}Session:${sessionId}`), 1, 'Session key in Redis');
    t.is(await db('oidc_models').first('id').where({ id: sessionId }), undefined, 'no Session row in SQL');
    t.is((await adapters('Session').findByUid(uid))?.accountId, 'a');

    const tokenId = newId();
    await adapters('AccessToken').upsert(tokenId, { grantId: newId('grant') }, LIVE);
    t.is(await r.exists(`${comboPrefix}AccessToken:${tokenId}`), 1, 'AccessToken key in Redis');
  });
}
