// Opens everything a process needs (database, Redis, keys) in one place, for
// the server and the CLI alike, and closes it again.
import type { Knex } from 'knex';
import type { RedisClient } from './redis/connect.ts';
import type { Config } from './config/index.ts';
import { connectDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { openEmbeddedStorage, type EmbeddedStorage } from './db/embedded-storage.ts';
import { connectRedis } from './redis/connect.ts';
import { accountModelLister, accountRevoker, chooseAdapters } from '../adapters/index.ts';
import { createModelCache } from '../adapters/model-cache.ts';
import type { AdapterFactory } from '../adapters/types.ts';
import { createSealer, type Sealer } from './keys/sealed-secrets.ts';
import { resealSecrets } from './keys/reseal-secrets.ts';
import { bootstrapRbac } from './rbac/bootstrap.ts';
import { createJobQueue, type JobQueue } from './jobs/queue.ts';
import { createLogger, type Logger } from './logging/logger.ts';

export interface Runtime {
  config: Config;
  db: Knex;
  redis?: RedisClient;
  adapters: AdapterFactory;
  /** Seals and opens secrets stored in the database (SECRETS_KEY). */
  sealer: Sealer;
  /** Ends every session and grant of an account (password reset, blocking). */
  revokeAccount(accountId: string): Promise<void>;
  /** An account's live sessions or grants (the admin API). */
  accountModels: ReturnType<typeof accountModelLister>;
  /** The durable job queue (./jobs/queue.ts): opened at the first job sent, or by a server's workers. */
  jobs: JobQueue;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  migrate?: boolean;
  serving?: boolean;
  logger?: Logger;
  /**
   * The embedded PostgreSQL, already being started by the caller (server/main.ts
   * starts it before loading the rest of the server, so the two overlap); the
   * runtime owns it from here and stops it at close.
   */
  embedded?: Promise<EmbeddedStorage>;
}

export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  // A server answering requests gets storage deadlines (config.storageTimeouts); the
  // CLI and migrations do not, since a migration may rightly run for minutes.
  const timeouts = options.serving ? config.storageTimeouts : undefined;
  let embedded: EmbeddedStorage | undefined;
  let db: Knex | undefined;
  let redis: RedisClient | undefined;
  try {
    // Embedded mode: this process starts the PostgreSQL under DATA_DIR and stops it at close.
    embedded = config.databaseUrl ? undefined : await (options.embedded ?? openEmbeddedStorage(config.dataDir));
    if (embedded?.earlierDatabase) options.logger?.warn({ directory: embedded.earlierDatabase }, 'DATA_DIR/pg holds the PGlite database of an earlier Enot ID, which is no longer read: this DATA_DIR starts empty in DATA_DIR/postgres (README, Decisions: the embedded database)');
    if (embedded) options.logger?.info({ directory: embedded.directory, adopted: embedded.adopted }, embedded.adopted ? 'embedded PostgreSQL reused (left running by a stopped process)' : 'embedded PostgreSQL started');
    const storage = { databaseUrl: embedded?.url ?? config.databaseUrl!, databaseSchema: config.databaseSchema, databasePoolMax: config.databasePoolMax };
    db = await connectDatabase(storage);
    if (options.migrate !== false) await migrateToLatest(db, { serialiseOn: config.databaseSchema });
    if (timeouts) {
      const migrated = db;
      // The embedded server is this process's own: no pooler between, statements can be prepared.
      db = await connectDatabase({ ...storage, preparedStatements: Boolean(embedded) }, timeouts);
      await migrated.destroy();
    }
    redis = config.redisUrl ? await connectRedis(config.redisUrl, timeouts) : undefined;
  } catch (err) {
    await db?.destroy().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw err;
  }
  const stopEmbedded = async () => {
    await embedded?.stop().catch(() => {});
  };
  // A write waits for its replicas at most half the command deadline: the rest is the write's.
  const wait = { replicas: config.redisWaitReplicas, timeoutMs: Math.ceil(config.storageTimeouts.commandMs / 2) };
  const redisStore = redis && { client: redis, prefix: config.redisPrefix, wait };
  const sealer = createSealer(config.secretsKeys);
  try {
    if (options.migrate !== false) {
      await resealSecrets(db, sealer);
      // The configuration's resources and default roles, for the server and the CLI alike.
      await bootstrapRbac(db, config);
    }
  } catch (err) {
    await Promise.allSettled([db.destroy(), redis?.quit()]);
    await stopEmbedded();
    throw err;
  }
  // The embedded database is this process's alone (./db/embedded-lock.ts): its models can be remembered (adapters/model-cache.ts).
  const modelCache = embedded ? createModelCache() : undefined;
  const adapters = chooseAdapters(db, redisStore, sealer, modelCache);
  const jobs = createJobQueue({ ...config, databaseUrl: embedded?.url ?? config.databaseUrl }, options.logger ?? createLogger('silent'));
  return {
    config,
    db,
    redis,
    adapters,
    sealer,
    revokeAccount: accountRevoker(db, redisStore, modelCache),
    accountModels: accountModelLister(db, redisStore),
    jobs,
    async close() {
      // Jobs and pools first, then the embedded server they were connected to.
      await jobs.stop(config.shutdownTimeoutMs).catch(() => {});
      await Promise.allSettled([db!.destroy(), redis?.quit()]);
      await stopEmbedded();
    },
  };
}
