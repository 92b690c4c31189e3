import { Redis } from 'ioredis';
import type { StorageTimeouts } from '../config/index.ts';
import { StorageConnectError } from '../errors/connection.ts';

// Without the server's deadlines (the CLI, tests): how long to wait for a connection.
const CONNECT_TIMEOUT_MS = 5_000;

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
    connectTimeout: timeouts?.connectMs ?? CONNECT_TIMEOUT_MS,
    ...(timeouts && { commandTimeout: timeouts.commandMs, socketTimeout: timeouts.commandMs }),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // Commands issued in the same tick leave in one write: a token lookup, its
    // grant and its revocation marker cost one round trip, not three.
    enableAutoPipelining: true,
  });
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
