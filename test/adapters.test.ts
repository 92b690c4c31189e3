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

// ---------------------------------------------------------------- backends --

// The embedded PostgreSQL under a DATA_DIR of its own (server/db/embedded-postgres.ts).
const embedded = new Slot<{ close(): Promise<void>; dir: string }>();
const embeddedDb = new Slot<Knex>();
const embeddedStore = new Slot<Store>();

test.before('embedded PostgreSQL', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enot-adapters-'));
  const { db, close } = await openDatabase({ dataDir: dir, databaseSchema: 'public', databaseUrl: undefined });
  embedded.value = { close, dir };
  await migrateToLatest(db);
  embeddedDb.value = db;
  embeddedStore.value = sqlStore(db);
});

test.after.always('embedded PostgreSQL', async () => {
  if (!embedded.value) return;
  await embedded.value.close();
  await rm(embedded.value.dir, { recursive: true, force: true });
});

registerContract('sql/embedded', embeddedStore);
registerSqlChecks('sql/embedded', embeddedDb);

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
