// QR approval for first-party mobile apps (as Telegram's and Discord's QR
// login): the app scans the desktop's QR, then calls these with an access
// token for ISSUER/api carrying the `qr-login` scope (RFC 6750 bearer).
import Router from '@koa/router';
import type { Context } from 'koa';
import { InvalidRequest, TokenRefused } from '../errors/index.ts';
import { describeUserAgent } from './user-agent.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { isFirstParty } from '../oidc/operator-metadata.ts';
import { activeAccessToken, grants } from '../oidc/bearer.ts';
import { readJson } from '../http/read-json.ts';
import { auditSecurityEvent } from '../audit/security-event.ts';
import type { QrLogin } from './qr-login.ts';

/** The QR's token: the last path segment of the scanned URL, or the bare token. */
function tokenOf(value: unknown): string {
  if (typeof value !== 'string' || value.length > 512) throw new InvalidRequest('qr must be the scanned URL or its token');
  return value.split('/').pop()!;
}

export function qrAppApi(deps: InteractionDeps) {
  const router = new Router({ prefix: '/api/qr' });

  async function caller(ctx: Context): Promise<string> {
    const found = await activeAccessToken(ctx, { provider: deps.provider, issuer: deps.config.issuer });
    if (!found.claims.sub || !found.grant) throw new TokenRefused(401, 'invalid_token', 'a valid bearer access token is required', 'Bearer error="invalid_token"');
    if (!grants(found, deps.config.appApiResource, 'qr-login')) {
      throw new TokenRefused(403, 'insufficient_scope', 'the access token needs the qr-login scope for this API', 'Bearer error="insufficient_scope", scope="qr-login"');
    }
    // Defence in depth: ISSUER/api is only granted to first-party clients
    // (server/oidc/resource-servers.ts); a client demoted since is refused here.
    if (!isFirstParty(await deps.provider.current.Client.find(found.claims.client_id))) {
      throw new TokenRefused(401, 'invalid_token', 'a valid bearer access token is required', 'Bearer error="invalid_token"');
    }
    return found.claims.sub;
  }

  router.post('/scan', async (ctx) => {
    const accountId = await caller(ctx);
    const login = await deps.qr.scan(tokenOf((await readJson(ctx)).qr), `account:${accountId}`);
    const client = await deps.provider.current.Client.find(login.clientId);
    const device = describeUserAgent(login.desktopUserAgent);
    ctx.body = {
      client_name: client?.clientName ?? login.clientId,
      browser: device.browser,
      system: device.system,
      ip: login.desktopIp,
      requested_at: login.createdAt.toISOString(),
      expires_at: login.expiresAt.toISOString(),
    };
  });

  // ASVS 7.2.1: as the phone pages do (./routes.ts), each decision of the app is recorded.
  const audit = (ctx: Context, action: 'qr.approved' | 'qr.denied', accountId: string, login: QrLogin) =>
    auditSecurityEvent(deps, ctx, {
      action, outcome: 'success', actorAccountId: accountId,
      details: { via: 'app', qr_login: login.id, client_id: login.clientId, desktop_ip: login.desktopIp },
    });

  router.post('/approve', async (ctx) => {
    const accountId = await caller(ctx);
    await audit(ctx, 'qr.approved', accountId, await deps.qr.approve(tokenOf((await readJson(ctx)).qr), `account:${accountId}`, accountId));
    ctx.body = { state: 'approved' };
  });

  router.post('/deny', async (ctx) => {
    const accountId = await caller(ctx);
    await audit(ctx, 'qr.denied', accountId, await deps.qr.deny(tokenOf((await readJson(ctx)).qr), `account:${accountId}`));
    ctx.body = { state: 'denied' };
  });

  return router;
}
