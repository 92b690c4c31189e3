// Redis beyond one node (issue 14 §3): the adapter contract and a real server on a
// Redis Cluster (three primaries, a replica each) and on a primary with a replica
// behind three Sentinels, all the machine's own redis-server on loopback ports of
// their own (test/helpers/redis-topology.ts). Each server signs a person in, then
// runs a token load while a primary is killed (SIGKILL): the replica takes over, the
// killed node comes back as a replica, and every token answered 200 before, during or
// after still introspects (REDIS_WAIT_REPLICAS=1: nothing acknowledged was only on
// the primary). Runs with the server-mode half of the suite (REDIS_URL set).
import test from 'ava';
import calculateSlot from 'cluster-key-slot';
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { connectRedis, type RedisClient } from '../server/redis/connect.ts';
import { redisStore, registerContract, Slot, LIVE, newId, type Store } from './helpers/adapter-contract.ts';
import { deleteKeysByPrefix } from './helpers/redis-keys.ts';
import { redisTopologyUnavailable, roleOf, startRedisCluster, startRedisSentinels, type RedisCluster, type RedisSentinels } from './helpers/redis-topology.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { CLIENT_SCOPE, RESOURCE_SERVERS, describe, sleep, tokenLoad } from './reliability/token-load.ts';
import { ReplicaWaitError } from '../adapters/redis-replicas.ts';
import { unavailableDependency } from '../server/errors/connection.ts';

const why = redisTopologyUnavailable() ?? (process.env.REDIS_URL ? undefined : 'runs with the server-mode half of the suite (REDIS_URL set)');
const serial = why ? test.skip : test.serial;
const suffix = why ? ` (skipped: ${why})` : '';
const prefix = `t:${randomBytes(6).toString('hex')}:`;
const WAIT = { replicas: 1, timeoutMs: 1_000 };

interface Topology {
  url: string;
  /** Kills the primary a test should lose; returns its port. */
  killPrimary(): Promise<number>;
  restart(port: number): Promise<void>;
  healthy(): Promise<void>;
  stop(): Promise<void>;
}

let cluster: RedisCluster | undefined;
let sentinels: RedisSentinels | undefined;
const clients: RedisClient[] = [];
const topologies: Record<'cluster' | 'sentinel', Slot<Topology>> = { cluster: new Slot(), sentinel: new Slot() };
const stores: Record<'cluster' | 'sentinel', Slot<Store>> = { cluster: new Slot(), sentinel: new Slot() };
const clusterClient = new Slot<Cluster>();
const sentinelClient = new Slot<RedisClient>();

test.before(async () => {
  if (why) return;
  [cluster, sentinels] = await Promise.all([startRedisCluster(), startRedisSentinels()]);
  const c = cluster;
  const s = sentinels;
  topologies.cluster.value = {
    url: c.url,
    // The primary of a fresh token key's slot: a third of the keys live there.
    killPrimary: async () => {
      const port = await c.primaryOf(`${prefix}AccessToken:${newId()}`);
      await c.kill(port);
      return port;
    },
    restart: (port) => c.restart(port),
    healthy: () => c.healthy(),
    stop: () => c.stop(),
  };
  topologies.sentinel.value = {
    url: s.url,
    killPrimary: async () => {
      const port = await s.primary();
      await s.kill(port);
      return port;
    },
    restart: (port) => s.restart(port),
    healthy: () => s.healthy(),
    stop: () => s.stop(),
  };
  for (const kind of ['cluster', 'sentinel'] as const) {
    const client = await connectRedis(topologies[kind].get().url);
    clients.push(client);
    stores[kind].value = redisStore(client, prefix, WAIT);
    if (client instanceof Cluster) clusterClient.value = client;
    else sentinelClient.value = client;
  }
});

test.after.always(async () => {
  for (const client of clients) {
    await deleteKeysByPrefix(client, prefix).catch(() => {});
    client.disconnect();
  }
  await Promise.all([cluster?.stop(), sentinels?.stop()]);
});

if (!why) {
  registerContract('redis cluster', stores.cluster);
  registerContract('redis sentinel', stores.sentinel);
} else {
  test.skip(`the adapter contract on a Redis Cluster and behind Sentinels${suffix}`, () => {});
}

serial(`[redis cluster] one save spans several primaries, and each command touches one slot${suffix}`, async (t) => {
  const client = clusterClient.get();
  const tokens = stores.cluster.get().factory('AccessToken');
  const grantId = newId('grant');
  const accountId = newId('account');
  // Keys spread over the cluster: otherwise the contract above would prove nothing about slots.
  const ids = Array.from({ length: 8 }, () => newId());
  for (const id of ids) await tokens.upsert(id, { grantId, accountId, kind: 'AccessToken' }, LIVE);
  const keys = [...ids.map((id) => `${prefix}AccessToken:${id}`), `${prefix}grant:${grantId}`, `${prefix}account:${accountId}`];
  const primaries = new Set(keys.map((key) => client.slots[calculateSlot(key)]?.[0]));
  t.true(primaries.size >= 2, `keys on ${[...primaries].join(', ')}`);
  await tokens.revokeByGrantId(grantId);
  for (const id of ids) t.is(await tokens.find(id), undefined, 'revoked across primaries');
});

serial(`[redis sentinel] with REDIS_WAIT_REPLICAS, a write no replica confirms fails as Redis unavailable (503), not answered${suffix}`, async (t) => {
  const s = sentinels!;
  const tokens = stores.sentinel.get().factory('AccessToken');
  const replica = await s.replica();
  await s.kill(replica);
  try {
    const started = performance.now();
    const err = await t.throwsAsync(tokens.upsert(newId(), { kind: 'AccessToken' }, LIVE), { instanceOf: ReplicaWaitError });
    t.is(unavailableDependency(err), 'redis', 'mapped to 503 like any Redis outage');
    t.true(performance.now() - started < WAIT.timeoutMs + 500, 'within the wait deadline');
    // Without the wait the same write is answered: the primary itself is fine.
    await t.notThrowsAsync(redisStore(sentinelClient.get(), prefix).factory('AccessToken').upsert(newId(), { kind: 'AccessToken' }, LIVE));
  } finally {
    await s.restart(replica);
    await s.healthy();
  }
  await t.notThrowsAsync(tokens.upsert(newId(), { kind: 'AccessToken' }, LIVE), 'confirmed again once the replica is back');
});

for (const kind of ['cluster', 'sentinel'] as const) {
  serial(`[redis ${kind}] a sign-in journey, then a primary killed under load: every token answered 200 still introspects${suffix}`, async (t) => {
    const topology = topologies[kind].get();
    let server: TestServer | undefined;
    try {
      server = await startTestServer({
        REDIS_URL: topology.url,
        REDIS_PREFIX: `${prefix}${kind}:`,
        REDIS_WAIT_REPLICAS: '1',
        INITIAL_ACCESS_TOKEN: TEST_IAT,
        RESOURCE_SERVERS,
      });
      const running = server;
      // A person signs in by password (code + PKCE), and the tokens refresh.
      const email = `journey.${kind}@example.com`;
      await createAccount(running.runtime.db, { email, password: 'a long enough password 1' });
      const rp = await registerClient(running.issuer, { scope: `openid email offline_access ${CLIENT_SCOPE}`, grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] });
      const { tokens } = await signIn(rp, { email, password: 'a long enough password 1', scope: 'openid email offline_access' });
      t.truthy(tokens.refresh_token);
      t.is(tokens.claims()?.email, email);
      const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      t.truthy(refreshed.access_token);

      // A token load while a primary dies.
      const { client_id, client_secret } = rp.clientMetadata();
      const basic = `Basic ${Buffer.from(`${client_id}:${client_secret as string}`).toString('base64')}`;
      const load = tokenLoad({ url: () => running.url, basic: () => basic, hangMs: 15_000 });
      const loading = load.start(4);
      await sleep(1_000);
      const killed = await topology.killPrimary();
      // The replica is promoted after the node timeout (1 s) and an election; then the
      // killed node comes back, as a replica of the new primary.
      await sleep(4_000);
      await topology.restart(killed);
      await topology.healthy();
      t.is(await roleOf(killed), 'slave', 'the killed primary came back as a replica: a failover happened');
      const recovery = await load.timeToRecover();
      await sleep(500);
      const answers = await loading.stop();

      const failed = answers.filter((a) => a.status !== a.expected);
      t.log(`${answers.length} answers, ${failed.length} failed during the failover (${[...new Set(failed.map((a) => a.status))].join(', ') || 'none'}); recovered ${Math.round(recovery)} ms after every primary had its replica again`);
      // What failed, failed cleanly: a 503 the client may retry, never a 500.
      for (const a of failed) t.is(a.status, 503, describe(a));
      t.true(Number.isFinite(recovery), 'tokens issue and introspect again');

      // Nothing answered 200 was lost: not the load's tokens, not the person's refresh token.
      const lost = await load.lostTokens();
      t.deepEqual(lost, [], `${lost.length} of ${load.issued.length} tokens lost`);
      t.true(load.issued.length > 50, `${load.issued.length} tokens issued`);
      const again = await oidc.refreshTokenGrant(rp, refreshed.refresh_token!);
      t.truthy(again.access_token, 'the rotated refresh token survived the failover');
    } finally {
      await server?.stop();
    }
  });
}
