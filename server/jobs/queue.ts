// The durable job queue: pg-boss (https://github.com/timgit/pg-boss), on the same
// database as everything else. Jobs are rows; a job is claimed by one process
// (SELECT … FOR UPDATE SKIP LOCKED), retried with backoff when its handler throws,
// and given to another process when the one that held it dies (its expiry).
//
// pg-boss keeps its own small pool on the database's URL (DATABASE_URL, or the
// embedded server's) and its tables in the schema `<DATABASE_SCHEMA>_jobs`, so runs
// with their own DATABASE_SCHEMA (the tests) never share jobs.
import { PgBoss, type ConstructorOptions, type Job, type JobInsert, type SendOptions, type WorkOptions } from 'pg-boss';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';

/** PostgreSQL identifiers are at most 63 bytes. */
const IDENTIFIER_MAX = 63;

/** The schema of the queue's tables, beside DATABASE_SCHEMA's. */
export function jobsSchema(databaseSchema: string): string {
  return `${databaseSchema}_jobs`.slice(0, IDENTIFIER_MAX);
}

// How often a running server looks for jobs whose process died (their expiry passed)
// and hands them out again; pg-boss's default is a minute.
const SUPERVISE_SECONDS = 5;

export interface QueueDefinition {
  name: string;
  /** Retries, backoff, expiry and retention of its jobs (pg-boss queue options). */
  options: Omit<SendOptions, 'db'>;
}

export interface JobQueue {
  /** Queues one job; a job with the same `id` is queued once (the insert does nothing the second time). */
  send(queue: QueueDefinition, data: object, options?: { id?: string }): Promise<void>;
  /** Queues many jobs in one statement; ids that exist already are skipped. */
  insert(queue: QueueDefinition, jobs: JobInsert[]): Promise<void>;
  /** Runs `handler` for each job of `queue` in this process until stop(); a throw means retry. */
  work<T extends object>(queue: QueueDefinition, options: WorkOptions, handler: (job: Job<T>) => Promise<void>): Promise<void>;
  cancel(queue: QueueDefinition, ids: string[]): Promise<void>;
  resume(queue: QueueDefinition, ids: string[]): Promise<void>;
  /** Gives failed jobs (their retries ran out) one more try. */
  retry(queue: QueueDefinition, ids: string[]): Promise<void>;
  /** Starts maintenance (expiry, retention) for a serving process; send() alone needs none. */
  startSupervising(): Promise<void>;
  /** Stops the workers, waiting up to `timeoutMs` for jobs in hand, then closes pg-boss's pool. */
  stop(timeoutMs: number): Promise<void>;
}

/** `config.databaseUrl`: the database's URL, the embedded server's in embedded mode (server/runtime.ts). */
export function createJobQueue(config: Pick<Config, 'databaseUrl' | 'databaseSchema' | 'storageTimeouts'>, logger: Logger): JobQueue {
  const log = logger.child({ component: 'jobs' });
  const schema = jobsSchema(config.databaseSchema);
  const created = new Set<string>();
  let started: Promise<PgBoss> | undefined;
  let supervising = false;
  let stopped = false;

  function open(supervise: boolean): Promise<PgBoss> {
    started ??= (async () => {
      const common: ConstructorOptions = {
        schema,
        supervise,
        schedule: false,
        superviseIntervalSeconds: SUPERVISE_SECONDS,
        monitorIntervalSeconds: SUPERVISE_SECONDS,
        registerInstance: false,
        openTelemetry: { enabled: false },
      };
      if (!config.databaseUrl) throw new Error('the job queue needs the database URL');
      const boss = new PgBoss({ ...common, connectionString: config.databaseUrl, max: 4, application_name: 'enot-id jobs', connectionTimeoutMillis: config.storageTimeouts.connectMs });
      // An EventEmitter without an 'error' listener would throw: pg-boss reports failed polls here.
      boss.on('error', (err) => log.warn({ err }, 'job queue error'));
      await boss.start();
      supervising = supervise;
      return boss;
    })();
    return started;
  }

  async function ready(queue: QueueDefinition): Promise<PgBoss> {
    if (stopped) throw new Error('the job queue is stopped');
    const boss = await open(false);
    if (!created.has(queue.name)) {
      // Creating a queue that exists keeps the existing one; its options are set again.
      await boss.createQueue(queue.name, queue.options);
      await boss.updateQueue(queue.name, queue.options);
      created.add(queue.name);
    }
    return boss;
  }

  return {
    async send(queue, data, options = {}) {
      await (await ready(queue)).send(queue.name, data, { ...queue.options, ...(options.id ? { id: options.id } : {}) });
    },
    async insert(queue, jobs) {
      await (await ready(queue)).insert(queue.name, jobs);
    },
    async work(queue, options, handler) {
      const boss = await ready(queue);
      await boss.work<object>(queue.name, { batchSize: 1, ...options }, async (jobs) => {
        for (const job of jobs) await handler(job as Job<never>);
      });
    },
    async cancel(queue, ids) {
      if (ids.length) await (await ready(queue)).cancel(queue.name, ids);
    },
    async resume(queue, ids) {
      if (ids.length) await (await ready(queue)).resume(queue.name, ids);
    },
    async retry(queue, ids) {
      if (ids.length) await (await ready(queue)).retry(queue.name, ids);
    },
    async startSupervising() {
      if (started && !supervising) throw new Error('the job queue was opened without supervision');
      await open(true);
    },
    async stop(timeoutMs) {
      stopped = true;
      const boss = await started?.catch(() => undefined);
      await boss?.stop({ graceful: true, close: true, timeout: Math.max(timeoutMs, 1000) });
    },
  };
}
