// Deletes a test run's Redis keys (its REDIS_PREFIX) on one Redis, a Sentinel
// primary or every primary of a Cluster (SCAN walks one node only).
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../server/redis/connect.ts';

export async function deleteKeysByPrefix(client: RedisClient, prefix: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      // One DEL per key: in a Cluster the keys of one node may still be in different slots.
      await Promise.all(keys.map((key) => client.del(key)));
      cursor = next;
    } while (cursor !== '0');
  }
}
