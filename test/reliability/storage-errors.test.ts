// Which errors mean "a store is unreachable" (503, retry) rather than a bug (500),
// and which store: the shapes node's net module, node-postgres, knex and ioredis
// give them, including the deadlines' own (server/errors/connection.ts). The
// partition and dependency-loss tests produce them for real in server mode.
import test from 'ava';
import { isStorageUnavailable, StorageConnectError, unavailableDependency } from '../../server/errors/connection.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const named = (message: string, name: string) => Object.assign(new Error(message), { name });

test('the storage clients’ deadlines and lost connections are recognised, with their store', (t) => {
  const cases: [unknown, 'database' | 'redis'][] = [
    // ioredis: commandTimeout, socketTimeout, no offline queue, closed, retries used up, failed ready check.
    [new Error('Command timed out'), 'redis'],
    [new Error("Socket timeout. Expecting data, but didn't receive any in 2000ms."), 'redis'],
    [new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'redis'],
    [new Error('Connection is closed.'), 'redis'],
    [named('Reached the max retries per request limit (which is 1).', 'MaxRetriesPerRequestError'), 'redis'],
    [new Error('Ready check failed: Command timed out'), 'redis'],
    // A Redis Cluster or Sentinel set in failover (docs/redis.md); a write no replica confirmed.
    [named('CLUSTERDOWN The cluster is down', 'ReplyError'), 'redis'],
    [named('TRYAGAIN Multiple keys request during rehashing of slot', 'ReplyError'), 'redis'],
    [named("READONLY You can't write against a read only replica.", 'ReplyError'), 'redis'],
    [named('LOADING Redis is loading the dataset in memory', 'ReplyError'), 'redis'],
    [new Error("Cluster isn't ready and enableOfflineQueue options is false"), 'redis'],
    [new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'), 'redis'],
    [new Error('Failed to refresh slots cache.'), 'redis'],
    [named('None of startup nodes is available', 'ClusterAllFailedError'), 'redis'],
    [new Error('All sentinels are unreachable. Retrying from scratch after 200ms.'), 'redis'],
    [named('Redis write confirmed by 0 of 1 replicas within 1000 ms (REDIS_WAIT_REPLICAS)', 'ReplicaWaitError'), 'redis'],
    // node-postgres through knex (the statement comes first, without its values): query_timeout,
    // connectionTimeoutMillis, statement_timeout (SQLSTATE 57014), a lost connection.
    [new Error('select "payload" from "clients" where "id" = $1 limit $2 - Query read timeout'), 'database'],
    [new Error('timeout expired'), 'database'],
    [new Error('Connection terminated due to connection timeout'), 'database'],
    [withCode('select 1 - canceling statement due to statement timeout', '57014'), 'database'],
    [new Error('Connection terminated unexpectedly'), 'database'],
    [withCode('terminating connection due to administrator command', '57P01'), 'database'],
    [withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), 'database'],
    // knex's pool: no free connection within acquireConnectionTimeout.
    [named('Knex: Timeout acquiring a connection. The pool is probably full.', 'KnexTimeoutError'), 'database'],
    // Wrapped, as oidc-provider and AggregateError do.
    [new Error('outer', { cause: new Error('Command timed out') }), 'redis'],
    [new AggregateError([new Error('unrelated'), withCode('connect ECONNRESET', 'ECONNRESET')]), 'database'],
    // A failed connect as the storage clients report it: the store it names, though ioredis's socket error has a socket code.
    [new StorageConnectError('redis', 'redis://:pw@cache:6379', withCode('connect ECONNREFUSED 10.0.0.9:6379', 'ECONNREFUSED')), 'redis'],
    [new StorageConnectError('database', 'postgres://db/enot', withCode('connect ECONNREFUSED 10.0.0.8:5432', 'ECONNREFUSED')), 'database'],
  ];
  for (const [err, dependency] of cases) {
    t.is(unavailableDependency(err), dependency, String(err));
    t.true(isStorageUnavailable(err), String(err));
  }
});

test('bugs and refusals are not mistaken for an outage', (t) => {
  const cases: unknown[] = [
    new Error('boom'),
    new TypeError("Cannot read properties of undefined (reading 'x')"),
    withCode('duplicate key value violates unique constraint "accounts_email_key"', '23505'),
    named('WRONGTYPE Operation against a key holding the wrong kind of value', 'ReplyError'),
    // A slot moved (resharding) is followed by the client, and a cross-slot command is a bug.
    named('CROSSSLOT Keys in request don\'t hash to the same slot', 'ReplyError'),
    named('ERR unknown command', 'ReplyError'),
    withCode('relation "nope" does not exist', '42P01'),
    'Command timed out',
    undefined,
    null,
  ];
  for (const err of cases) t.false(isStorageUnavailable(err), String(err));
});
