import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../logging/logger.ts';
import { PayloadTooLarge } from '../errors/index.ts';

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

// oidc-provider reads at most 56 KiB of a body and then answers 400; a declared
// larger body is refused up front with the status that says why.
const BODY_LIMIT_BYTES = 56 * 1024;

export async function rejectOversizedBodies(ctx: Context, next: Next): Promise<void> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > BODY_LIMIT_BYTES) throw new PayloadTooLarge();
  await next();
}
