// Waits for the durable job queue (server/jobs/queue.ts, pg-boss) to have nothing
// left to do in one queue, so that a test can count what a flow sent without racing
// the worker that sends it later (security notices go out after the request).
import type { QueueDefinition } from '../../server/jobs/queue.ts';
import { jobsSchema } from '../../server/jobs/queue.ts';
import type { Runtime } from '../../server/runtime.ts';

/** pg-boss's states of a job that may still run. */
const PENDING = ['created', 'retry', 'active'];

/** Resolves once no job of `queue` is pending; throws after `timeoutMs`. */
export async function queueSettled(runtime: Pick<Runtime, 'db' | 'config'>, queue: QueueDefinition, timeoutMs = 15_000): Promise<void> {
  const table = `${jobsSchema(runtime.config.databaseSchema)}.job`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The queue's tables appear with its first job: none yet is nothing pending.
    const exists = (await runtime.db.raw('select to_regclass(?) as t', [table])).rows[0].t !== null;
    const pending = exists ? Number((await runtime.db.raw('select count(*)::int as n from ?? where name = ? and state = any(?)', [table, queue.name, PENDING])).rows[0].n) : 0;
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`${pending} ${queue.name} jobs still pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
