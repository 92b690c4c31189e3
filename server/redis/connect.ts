import { Redis } from 'ioredis';

/** A Redis client that fails fast instead of queueing commands while disconnected. */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // Errors surface through commands; the 'error' event only needs a listener.
  redis.on('error', () => {});
  await redis.connect();
  await redis.ping();
  return redis;
}
