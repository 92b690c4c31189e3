// What oidc-provider leaves to us in the device flow (RFC 8628):
// - §3.2 `interval` in the device authorization response;
// - §3.5 `slow_down` for a device polling faster than the interval;
// - §5.1 limits on wrong user codes, per IP and globally.
import type { Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Limiters } from '../rate-limit/limiters.ts';
import { DEVICE_LIMITS } from '../verification/limits.ts';
import { RateLimited } from '../errors/index.ts';
import { matchesRoute } from './route-match.ts';
import { errorPage } from '../../views/error.ts';
import { pageFrame } from '../http/page-frame.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export function deviceFlowLimits(limiters: Limiters, pollIntervalSeconds: number) {
  const polls = limiters.custom('device-poll', 1, pollIntervalSeconds);
  const wrongPerIp = limiters.custom('device-user-code-ip', DEVICE_LIMITS.failuresPerIpPer15Minutes, 15 * 60);
  const wrongGlobal = limiters.custom('device-user-code-global', DEVICE_LIMITS.failuresGlobalPerHour, 3600);

  /**
   * Counts a code entry before it is checked (RFC 8628 §5.1), so concurrent
   * entries cannot pass a check that has not seen the others' counts. Returns
   * undefined when it may be checked, or the refusal. The global count does
   * not refuse an address with no recent failures (its first
   * freshAddressTriesOverGlobalLimit tries): a flood from many addresses slows
   * guessing for everyone but cannot lock every person out (docs/qr.md,
   * "Guessing user codes", has the arithmetic; RFC 8628 §5.1, §6.1).
   */
  async function admit(ip: string): Promise<RateLimited | undefined> {
    let fromIp: number;
    try {
      fromIp = await wrongPerIp.consume(ip);
    } catch (err) {
      if (err instanceof RateLimited) return err;
      throw err;
    }
    try {
      await wrongGlobal.consume('all');
    } catch (err) {
      if (!(err instanceof RateLimited)) throw err;
      if (fromIp <= DEVICE_LIMITS.freshAddressTriesOverGlobalLimit) return undefined;
      // Refused before any check: neither count keeps this entry.
      await Promise.all([wrongPerIp.reward(ip), wrongGlobal.reward('all')]);
      return err;
    }
    return undefined;
  }

  return async function deviceFlow(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    // Matched as oidc-provider's router matches (/DEVICE, /device/ too); what is counted is
    // confirmed after the provider ran, by its route name.
    const enteringCode = ctx.method === 'POST' && matchesRoute(ctx.path, '/device');
    if (enteringCode) {
      const refused = await admit(ctx.ip);
      if (refused) {
        ctx.status = 429;
        ctx.set('Retry-After', String(refused.retryAfter));
        ctx.type = 'html';
        ctx.body = errorPage({ ...pageFrame(ctx, '/device'), status: 429, error: 'rate_limited', description: 'too many wrong codes; wait a little and try again' });
        return;
      }
    }

    let wrongCode = false;
    try {
      await next();
      wrongCode = enteringCode && ctx.oidc?.route === 'code_verification' && ctx.state.userCodeRejected === true;
    } finally {
      // Only a code that does not exist is a guess; anything else (the right code, no code, an error) gives its count back.
      if (enteringCode && !wrongCode) await Promise.allSettled([wrongPerIp.reward(ctx.ip), wrongGlobal.reward('all')]);
    }

    const route = ctx.oidc?.route;
    if (route === 'device_authorization' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      (ctx.body as Record<string, unknown>).interval = pollIntervalSeconds;
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
