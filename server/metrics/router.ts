import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Metrics } from './metrics.ts';

/**
 * GET /metrics for Prometheus, behind a bearer token (METRICS_TOKEN). Without
 * a token configured the route does not exist: metrics are never public.
 */
export function metricsRouter(metrics: Metrics, token: string | undefined) {
  const router = new Router();
  if (!token) return router;
  const expected = Buffer.from(`Bearer ${token}`);
  router.get('/metrics', async (ctx) => {
    const given = Buffer.from(ctx.get('authorization'));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'invalid_token', error_description: 'metrics need the configured bearer token' };
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
