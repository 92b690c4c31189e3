import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import { sqlAdapterFactory } from './sql.ts';
import { redisAdapterFactory } from './redis.ts';
import { DURABLE_MODELS, type AdapterFactory } from './types.ts';

/**
 * Clients and registration tokens always live in the database. With Redis
 * configured, everything short-lived (sessions, grants, codes, tokens,
 * interactions) lives in Redis; otherwise in the database too.
 */
export function chooseAdapters(db: Knex, redis?: { client: Redis; prefix: string }): AdapterFactory {
  const sql = sqlAdapterFactory(db);
  if (!redis) return sql;
  const fast = redisAdapterFactory(redis.client, redis.prefix);
  return (model) => (DURABLE_MODELS.has(model) ? sql(model) : fast(model));
}
