// What oidc-provider leaves to us in the device flow (RFC 8628):
// - §3.2 `interval` in the device authorization response;
// - §3.5 `slow_down` for a device polling faster than the interval;
// - §5.1 limits on wrong user codes, per IP and globally.
import type { Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Limiters } from '../rate-limit/limiters.ts';
import { DEVICE_LIMITS } from '../verification/limits.ts';
import { RateLimited } from '../errors/index.ts';
import { errorPage } from '../../views/error.ts';
import { cspNonce } from '../http/content-security-policy.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export function deviceFlowLimits(limiters: Limiters, pollIntervalSeconds: number) {
  const polls = limiters.custom('device-poll', 1, pollIntervalSeconds);
  const wrongPerIp = limiters.custom('device-user-code-ip', DEVICE_LIMITS.failuresPerIpPer15Minutes, 15 * 60);
  const wrongGlobal = limiters.custom('device-user-code-global', DEVICE_LIMITS.failuresGlobalPerHour, 3600);

  return async function deviceFlow(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    const enteringCode = ctx.method === 'POST' && ctx.path === '/device';
    if (enteringCode) {
      try {
        await wrongPerIp.check(ctx.ip);
        await wrongGlobal.check('all');
      } catch (err) {
        if (!(err instanceof RateLimited)) throw err;
        ctx.status = 429;
        ctx.set('Retry-After', String(err.retryAfter));
        ctx.type = 'html';
        ctx.body = errorPage({ status: 429, error: 'rate_limited', description: 'too many wrong codes; wait a little and try again', nonce: cspNonce(ctx) });
        return;
      }
    }

    await next();

    const route = ctx.oidc?.route;
    if (route === 'device_authorization' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      (ctx.body as Record<string, unknown>).interval = pollIntervalSeconds;
    }
    if (enteringCode && ctx.state.userCodeRejected) {
      await Promise.allSettled([wrongPerIp.consume(ctx.ip), wrongGlobal.consume('all')]);
    }
    const body = ctx.body as { error?: string } | undefined;
    const deviceCode = (ctx.oidc?.params as { grant_type?: unknown; device_code?: unknown } | undefined);
    if (route === 'token' && deviceCode?.grant_type === DEVICE_GRANT && body?.error === 'authorization_pending' && typeof deviceCode.device_code === 'string') {
      try {
        await polls.consume(deviceCode.device_code);
      } catch (err) {
        if (!(err instanceof RateLimited)) throw err;
        ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' };
      }
    }
  };
}
