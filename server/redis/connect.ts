import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { StorageTimeouts } from '../config/index.ts';
import { StorageConnectError } from '../errors/connection.ts';
import { parseRedisUrl, type RedisTarget } from './url.ts';

/** One Redis, a primary found through Sentinels (both `Redis`), or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

// Without the server's deadlines (the CLI, tests): how long to wait for a connection.
const CONNECT_TIMEOUT_MS = 5_000;

/** Waits between reconnection attempts (to a node, the Sentinels, the cluster): 200 ms more each time, at most 2 s. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2_000);

/**
 * The options of every connection to a Redis node: fail fast instead of queueing
 * commands while disconnected.
 *
 * With `timeouts` (the server) it also fails fast while connected to a Redis that
 * does not answer (a partition: packets dropped, no reset): every command has a
 * deadline (`commandTimeout`), and a connection on which nothing has arrived for as
 * long while commands wait is closed and opened again (`socketTimeout`), so a
 * connection that is dead for good does not linger until TCP gives up.
 */
function nodeOptions(target: RedisTarget, timeouts: StorageTimeouts | undefined): RedisOptions {
  return {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: timeouts?.connectMs ?? CONNECT_TIMEOUT_MS,
    ...(timeouts && { commandTimeout: timeouts.commandMs, socketTimeout: timeouts.commandMs }),
    retryStrategy: reconnectDelay,
    // Commands issued in the same tick leave in one write: a token lookup, its
    // grant and its revocation marker cost one round trip, not three.
    enableAutoPipelining: true,
    ...(target.username && { username: target.username }),
    ...(target.password && { password: target.password }),
    ...(target.tls && { tls: {} }),
  };
}

function createClient(target: RedisTarget, timeouts: StorageTimeouts | undefined): RedisClient {
  const options = nodeOptions(target, timeouts);
  switch (target.kind) {
    case 'single':
      // The URL's own user, password, TLS and database number apply.
      return new Redis(target.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: target.sentinels,
        name: target.name,
        db: target.db,
        role: 'master',
        ...(target.sentinelUsername && { sentinelUsername: target.sentinelUsername }),
        ...(target.sentinelPassword && { sentinelPassword: target.sentinelPassword }),
        ...(target.tls && { enableTLSForSentinelMode: true }),
        sentinelRetryStrategy: reconnectDelay,
        // After a failover the old primary may answer READONLY for a moment: reconnect
        // (through the Sentinels, to the new primary) and retry the command.
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
      });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        lazyConnect: true,
        enableOfflineQueue: false,
        // Not in a Cluster: an auto-pipeline that meets MOVED after a failover or a
        // resharding fails its writes instead of following the redirection
        // (ioredis issues #1692, #2075); single commands follow it and refresh the map.
        enableAutoPipelining: false,
        redisOptions: { ...options, enableAutoPipelining: false },
        // Topology changes are also picked up without waiting for a MOVED.
        slotsRefreshInterval: 5_000,
        // Writes and reads go to the primary of each slot: a replica may lag.
        scaleReads: 'master',
        clusterRetryStrategy: reconnectDelay,
        // While a failover elects a replica, the slot answers CLUSTERDOWN or TRYAGAIN:
        // retried after these delays, within the command deadline.
        retryDelayOnClusterDown: 200,
        retryDelayOnFailover: 200,
        retryDelayOnTryAgain: 200,
        slotsRefreshTimeout: timeouts?.connectMs ?? CONNECT_TIMEOUT_MS,
      };
      return new Cluster(target.nodes, clusterOptions);
    }
  }
}

/** A connected client for REDIS_URL (server/redis/url.ts): one Redis, Sentinel or Cluster. */
export async function connectRedis(url: string, timeouts?: StorageTimeouts): Promise<RedisClient> {
  const redis = createClient(parseRedisUrl(url), timeouts);
  // Errors surface through commands; the 'error' event only needs a listener. The
  // last one says why a connection could not be opened, where connect() itself
  // rejects with only "Connection is closed.".
  let lastError: unknown;
  redis.on('error', (err) => {
    lastError = err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    // Stops the retries: nothing would use this client.
    redis.disconnect();
    throw new StorageConnectError('redis', url, lastError ?? err, timeouts?.connectMs ?? CONNECT_TIMEOUT_MS);
  }
  return redis;
}
