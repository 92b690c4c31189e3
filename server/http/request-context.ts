import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../logging/logger.ts';

const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Request id (kept from X-Request-Id when sane) and one access-log line per request, without query strings. */
export function requestContext(logger: Logger) {
  return async function withRequestContext(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get('x-request-id');
    const reqId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.reqId = reqId;
    ctx.set('X-Request-Id', reqId);
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.info(
        { reqId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  };
}

/** Headers every response gets (OWASP Secure Headers); oidc-provider adds its own where it needs more. */
export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  await next();
}
