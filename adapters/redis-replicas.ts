// Redis replicates asynchronously: a primary acknowledges a write before its replicas
// hold it, and a failover promotes a replica that may not have it yet. A token the
// client was given could then vanish. With REDIS_WAIT_REPLICAS = n, every write of
// the adapter is followed by WAIT n on each primary written to, and the request fails
// (503) unless n replicas confirmed it within the deadline — the Redis documentation's
// way to make an acknowledged write survive a failover of one node ("WAIT": it does
// not make Redis strongly consistent, but a replica that confirmed the write is the
// one Sentinel or the Cluster promotes when it is the only one, or the most advanced).
import calculateSlot from 'cluster-key-slot';
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from '../server/redis/connect.ts';

export class ReplicaWaitError extends Error {
  constructor(wanted: number, got: number, timeoutMs: number) {
    super(`Redis write confirmed by ${got} of ${wanted} replicas within ${timeoutMs} ms (REDIS_WAIT_REPLICAS)`);
    this.name = 'ReplicaWaitError';
  }
}

export interface ReplicaWait {
  replicas: number;
  timeoutMs: number;
}

/** The connection of the primary that holds `key` (a Cluster), or the one connection. */
function primaryOf(client: RedisClient, key: string): Redis | undefined {
  if (!(client instanceof Cluster)) return client;
  const nodeKey = client.slots[calculateSlot(key)]?.[0];
  // The connection ioredis sends this slot's commands on: WAIT counts that connection's writes.
  return client.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === nodeKey);
}

/**
 * Resolves once `wait.replicas` replicas of every primary that holds one of `keys`
 * confirmed this client's writes to it; a no-op when none are asked for.
 */
export async function awaitReplicas(client: RedisClient, keys: string[], wait: ReplicaWait | undefined): Promise<void> {
  if (!wait || wait.replicas === 0) return;
  const primaries = new Set<Redis>();
  for (const key of keys) {
    const node = primaryOf(client, key);
    // The slot moved since (a failover): the write itself went through the new map.
    if (!node) throw new ReplicaWaitError(wait.replicas, 0, wait.timeoutMs);
    primaries.add(node);
  }
  const confirmed = await Promise.all([...primaries].map((node) => node.wait(wait.replicas, wait.timeoutMs)));
  const least = Math.min(...confirmed);
  if (least < wait.replicas) throw new ReplicaWaitError(wait.replicas, least, wait.timeoutMs);
}
