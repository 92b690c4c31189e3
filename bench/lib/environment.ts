// Storage for one benchmark mode: a fresh DATA_DIR under the temp directory
// always, plus (server mode) a fresh PostgreSQL schema and Redis key prefix,
// all removed again afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { Redis } from 'ioredis';
import { jobsSchema } from '../../server/jobs/queue.ts';

export type Mode = 'embedded' | 'server';

export interface BenchEnvironment {
  mode: Mode;
  dataDir: string;
  /** Storage variables for the server and the account setup. */
  storage: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * Removes every key under `prefix`, also millions of them (the growth part
 * seeds 7 keys per account): SCAN in large steps, and UNLINK (freed off
 * Redis's main thread) sent without waiting, so scanning and deleting overlap.
 */
export async function removeKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    const unlinks: Promise<number>[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
      if (keys.length) unlinks.push(redis.unlink(...keys));
      cursor = next;
    } while (cursor !== '0');
    return (await Promise.all(unlinks)).reduce((a, b) => a + b, 0);
  } finally {
    await redis.quit();
  }
}

export async function benchEnvironment(mode: Mode, urls: { databaseUrl?: string; redisUrl?: string }): Promise<BenchEnvironment> {
  const id = randomBytes(5).toString('hex');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enot-bench-'));
  const storage: Record<string, string> = { DATA_DIR: dataDir };
  if (mode === 'server') {
    if (urls.databaseUrl) Object.assign(storage, { DATABASE_URL: urls.databaseUrl, DATABASE_SCHEMA: `bench_${id}` });
    if (urls.redisUrl) Object.assign(storage, { REDIS_URL: urls.redisUrl, REDIS_PREFIX: `bench:${id}:` });
  }
  return {
    mode,
    dataDir,
    storage,
    async cleanup() {
      await rm(dataDir, { recursive: true, force: true });
      if (storage.DATABASE_URL) {
        const db = knexFactory({ client: 'pg', connection: storage.DATABASE_URL });
        // The job queue's tables live beside it (server/jobs/queue.ts jobsSchema).
        await db.raw('drop schema if exists ??, ?? cascade', [storage.DATABASE_SCHEMA!, jobsSchema(storage.DATABASE_SCHEMA!)]).finally(() => db.destroy());
      }
      if (storage.REDIS_URL) await removeKeys(storage.REDIS_URL, storage.REDIS_PREFIX!);
    },
  };
}
