import Router from '@koa/router';
import type { Knex } from 'knex';
import type { RedisClient } from '../redis/connect.ts';
import { RETRY_UNAVAILABLE_AFTER_SECONDS } from '../errors/index.ts';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'failing'> {
  try {
    await withTimeout(probe());
    return 'ok';
  } catch {
    return 'failing';
  }
}

/** /healthz: the process answers. /readyz: its database (and Redis) answer too. */
export function healthRouter(deps: { db: Knex; redis?: RedisClient }) {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks: Record<string, string> = { database: await check(() => deps.db.raw('select 1')) };
    if (deps.redis) checks.redis = await check(() => deps.redis!.ping());
    const ready = Object.values(checks).every((c) => c === 'ok');
    ctx.set('Cache-Control', 'no-store');
    // RFC 9110 §10.2.3: a 503 says when to ask again.
    if (!ready) ctx.set('Retry-After', String(RETRY_UNAVAILABLE_AFTER_SECONDS));
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'failing', checks };
  });
  return router;
}
