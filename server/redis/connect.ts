import { Redis } from 'ioredis';
import type { StorageTimeouts } from '../config/index.ts';

/**
 * A Redis client that fails fast instead of queueing commands while disconnected.
 *
 * With `timeouts` (the server) it also fails fast while connected to a Redis that
 * does not answer (a partition: packets dropped, no reset): every command has a
 * deadline (`commandTimeout`), and a connection on which nothing has arrived for as
 * long while commands wait is closed and opened again (`socketTimeout`), so a
 * connection that is dead for good does not linger until TCP gives up.
 */
export async function connectRedis(url: string, timeouts?: StorageTimeouts): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: timeouts?.connectMs ?? 5_000,
    ...(timeouts && { commandTimeout: timeouts.commandMs, socketTimeout: timeouts.commandMs }),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // Commands issued in the same tick leave in one write: a token lookup, its
    // grant and its revocation marker cost one round trip, not three.
    enableAutoPipelining: true,
  });
  // Errors surface through commands; the 'error' event only needs a listener.
  redis.on('error', () => {});
  await redis.connect();
  await redis.ping();
  return redis;
}
